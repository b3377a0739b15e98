package dev.moments.ingest;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.lang.reflect.Field;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.ffmpeg.global.swscale;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FrameGrabber;

/**
 * A video file, live URL or webcam decoded with FFmpeg (JavaCV {@link FFmpegFrameGrabber}) and
 * sampled by presentation time ({@link FrameSampler}): {@link #next()} returns upright frames,
 * downscaled so that the longest side is at most {@code maxSide}, until the source ends.
 *
 * <p>Sources: a file path, a URL FFmpeg can read ({@code rtsp://}, {@code http(s)://}, {@code
 * udp://}, {@code srt://}, ...; {@code file://} counts as a file) or {@code webcam:N} for the V4L2
 * device {@code /dev/videoN}. URLs and webcams are <em>live</em>: their frames carry the wall
 * clock at capture and a read that stays silent longer than the read timeout ends the source.
 * Files carry start time + PTS and may be paced ({@link SourceOptions#speed()}).
 *
 * <p>Frames are sampled in the stream's exact time base ({@link FrameSampler}); a frame's {@code
 * ptsMs} is its PTS rounded to the nearest ms and a file's capture time is start time + that.
 *
 * <p>Frames no sample point needs are not decoded where the stream allows it ({@link
 * #open(String, SourceOptions, boolean)}): a frame is unneeded when an earlier frame of its
 * sampling slot has been read, and its packet goes to the decoder with {@code skip_frame =
 * AVDISCARD_NONREF}, which drops it when it is a non-reference frame (B-frames of MPEG-4 Part 2,
 * H.264 non-reference pictures); for H.264 files, packets that neither they nor anything before
 * the next IDR needs are not sent at all (a 300-packet look-ahead). The sampled frames are
 * exactly those of decoding everything (SkipUnsampledTest); only {@link #decodedFrames()} is
 * lower. Sampled frames are converted (scaled and to BGR) in one swscale call; unsampled ones
 * never leave FFmpeg.
 *
 * <p>Rotation metadata (the display matrix, or an older {@code rotate} tag) is applied so frames
 * come out upright. A file that ends early is reported by {@link #truncated()} rather than thrown,
 * after the frames that could be decoded. The rule is the same for every container: decoding
 * ended before the end the file itself promises, which is (1) a read or decode error that ends
 * it; (2) a duration in its header (MP4, Matroska, ...) longer than what was decoded by more than
 * 0.5 s and 3 frames; (3) for containers without one (MPEG-TS), decode errors in its last frames
 * (the file ends inside a frame) or (4) a size that is not a whole number of its transport
 * packets. NOTE: a transport stream cut exactly between two frames and two packets is a valid,
 * shorter file and cannot be told from one. Not thread-safe; {@link #close()} from the thread
 * that reads.
 */
public final class VideoSource implements AutoCloseable {
  private static final Pattern URL = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");
  private static final Pattern WEBCAM = Pattern.compile("^webcam:(\\d+)$");
  private static final Pattern FFMPEG_ERROR = Pattern.compile("error (-?\\d+)");
  /** A file whose last this-many decoded frames include a damaged one ends inside a frame. */
  private static final int DAMAGED_TAIL_FRAMES = 8;
  /** Most packets read ahead of the decoder looking for the next H.264 IDR (files only). */
  private static final int LOOKAHEAD = 300;
  private static final Field PICTURE;
  private static final Field VIDEO_C;

  static {
    // FFmpeg's own log lines would break the one-line error contract; errors are reported here.
    avutil.av_log_set_level(
        Boolean.getBoolean("moments.ffmpeg.verbose") ? avutil.AV_LOG_INFO : avutil.AV_LOG_QUIET);
    try {
      PICTURE = FFmpegFrameGrabber.class.getDeclaredField("picture");
      PICTURE.setAccessible(true);
      VIDEO_C = FFmpegFrameGrabber.class.getDeclaredField("video_c");
      VIDEO_C.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("JavaCV's FFmpegFrameGrabber has no 'picture' field; "
          + "this code is written against JavaCV 1.5.13", e);
    }
  }

  private final String name;
  private final boolean live;
  private final SourceOptions options;
  private final FFmpegFrameGrabber grabber;
  private final FrameSampler sampler;
  private final int rotationCw;
  private final int scaledWidth;
  private final int scaledHeight;
  private final long baseTimeMs;
  private final long tbNum;
  private final long tbDen;
  /** The stream's or container's duration from its header, in time-base ticks, or -1. */
  private final long declaredDuration;
  /** One nominal frame in ticks (from the stream's frame rate), or 0 when unknown. */
  private final long nominalFrame;
  private final long fileSize;
  private final String format;

  // Our own read/decode loop on JavaCV's opened demuxer and decoder (see feed()).
  private final AVFormatContext oc;
  private final AVCodecContext codec;
  private final int videoIndex;
  private final AVFrame picture = avutil.av_frame_alloc();
  /** Packets read and not yet sent (files: the look-ahead), and emptied ones to reuse. */
  private final ArrayDeque<AVPacket> queue = new ArrayDeque<>();
  private final ArrayDeque<AVPacket> spare = new ArrayDeque<>();
  /** PTS of the video packets read lately (the skip decision looks for an earlier one in the same slot). */
  private final TreeSet<Long> seen = new TreeSet<>();
  private final boolean skipping;
  /** H.264 file: packets before an IDR that nothing sampled needs are not decoded at all. */
  private final boolean dropTails;
  /** Bytes of the NAL length prefix (MP4/Matroska H.264), 0 for Annex B start codes. */
  private final int nalLength;
  private boolean flushed;
  private boolean closed;
  private boolean skipOff;
  private long packets;
  private long dropped;
  private long nonrefMarked;

  private SwsContext sws;
  private PackedPlane dst;

  private long decoded;
  private long sampled;
  private long firstPts = Long.MIN_VALUE;
  private long lastPts = Long.MIN_VALUE;
  private long lastEnd = Long.MIN_VALUE;
  private long lastDamaged;
  private long pacingStartNanos;
  private boolean ended;
  private boolean truncated;
  private String endNote = "";

  private VideoSource(String name, boolean live, SourceOptions options, FFmpegFrameGrabber g,
      long baseTimeMs, long fileSize, boolean skipping) {
    this.name = name;
    this.live = live;
    this.options = options;
    this.grabber = g;
    this.baseTimeMs = baseTimeMs;
    this.fileSize = fileSize;
    this.oc = g.getFormatContext();
    this.videoIndex = g.getVideoStream();
    try {
      this.codec = (AVCodecContext) VIDEO_C.get(g);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot reach JavaCV's video decoder", e);
    }
    AVStream st = oc.streams(videoIndex);
    this.skipping = skipping;
    boolean h264 = st.codecpar().codec_id() == avcodec.AV_CODEC_ID_H264;
    this.dropTails = skipping && !live && h264;
    int extra = st.codecpar().extradata_size();
    BytePointer ed = st.codecpar().extradata();
    this.nalLength = h264 && extra >= 5 && ed != null && ed.get(0) == 1 ? (ed.get(4) & 3) + 1 : 0;
    AVRational tb = st.time_base();
    if (tb.num() <= 0 || tb.den() <= 0) {
      throw new VideoSourceException("cannot read video " + name + ": its video stream has no time base");
    }
    this.tbNum = tb.num();
    this.tbDen = tb.den();
    this.sampler = new FrameSampler(options.fps(), tbNum, tbDen);
    this.format = String.valueOf(oc.iformat() == null ? null : oc.iformat().name().getString());
    this.rotationCw = rotationOf(g);
    int w = g.getImageWidth();
    int h = g.getImageHeight();
    if (w <= 0 || h <= 0) {
      throw new VideoSourceException("cannot read video " + name + ": unknown frame size");
    }
    double scale = options.maxSide() > 0 ? Math.min(1.0, options.maxSide() / (double) Math.max(w, h)) : 1.0;
    this.scaledWidth = Math.max(2, (int) Math.round(w * scale));
    this.scaledHeight = Math.max(2, (int) Math.round(h * scale));
    long d = oc.duration();
    if (st.duration() != avutil.AV_NOPTS_VALUE && st.duration() > 0) {
      this.declaredDuration = st.duration();
    } else if (d != avutil.AV_NOPTS_VALUE && d > 0
        && oc.duration_estimation_method() != avformat.AVFMT_DURATION_FROM_BITRATE) {
      this.declaredDuration = ticks(d, 1, avutil.AV_TIME_BASE);
    } else {
      this.declaredDuration = -1;
    }
    this.nominalFrame = nominalFrameTicks(g);
  }

  /**
   * One nominal frame of {@code g}'s video stream (its average frame rate, else its real base
   * rate) in ticks of the stream's time base, rounded to nearest; 0 when the rate is unknown.
   * This is the duration of a frame that carries none, and where a frame has no timestamp it
   * is taken to start where the frame before it ended.
   */
  public static long nominalFrameTicks(FFmpegFrameGrabber g) {
    AVStream st = g.getFormatContext().streams(g.getVideoStream());
    AVRational tb = st.time_base();
    AVRational rate = st.avg_frame_rate().num() > 0 ? st.avg_frame_rate() : st.r_frame_rate();
    double fr = g.getVideoFrameRate();
    if (!(fr > 0 && fr < 1000) || rate.num() <= 0 || rate.den() <= 0 || tb.num() <= 0 || tb.den() <= 0) {
      return 0;
    }
    // rate.den/rate.num s = rate.den * tb.den / (rate.num * tb.num) ticks
    return Math.max(1, roundDiv(BigInteger.valueOf(rate.den()).multiply(BigInteger.valueOf(tb.den())),
        BigInteger.valueOf(rate.num()).multiply(BigInteger.valueOf(tb.num()))));
  }

  /** {@code value * num / den} seconds in ticks of the stream's time base, rounded to nearest. */
  private long ticks(long value, long num, long den) {
    return roundDiv(BigInteger.valueOf(value).multiply(BigInteger.valueOf(num)).multiply(BigInteger.valueOf(tbDen)),
        BigInteger.valueOf(den).multiply(BigInteger.valueOf(tbNum)));
  }

  /** {@code ticks} of the time base in {@code 1/unit} s (1000: ms), rounded to nearest. */
  private long toUnits(long ticks, long unit) {
    return roundDiv(BigInteger.valueOf(ticks).multiply(BigInteger.valueOf(tbNum)).multiply(BigInteger.valueOf(unit)),
        BigInteger.valueOf(tbDen));
  }

  /** {@code a / b} rounded to the nearest integer (halves up), for b > 0 and any sign of a. */
  private static long roundDiv(BigInteger a, BigInteger b) {
    BigInteger[] qr = a.shiftLeft(1).add(b).divideAndRemainder(b.shiftLeft(1));
    BigInteger q = qr[1].signum() < 0 ? qr[0].subtract(BigInteger.ONE) : qr[0];
    return q.longValueExact();
  }

  /** Whether {@code source} names a live source (a URL other than {@code file://}, or a webcam). */
  public static boolean isLive(String source) {
    return WEBCAM.matcher(source).matches()
        || (URL.matcher(source).matches() && !source.regionMatches(true, 0, "file://", 0, 7));
  }

  /**
   * Opens a source: a file path, a URL or {@code webcam:N}.
   *
   * @throws VideoSourceException (an {@link IllegalArgumentException}) when the source does not
   *     exist, is empty, is not a video, has no video stream, or a live source cannot be opened
   */
  public static VideoSource open(String source, SourceOptions options) {
    return open(source, options, true);
  }

  /**
   * Opens a source as {@link #open(String, SourceOptions)}; {@code skipUnsampled} false decodes
   * every frame (the same frames come out either way; skipping only saves decoding work).
   */
  public static VideoSource open(String source, SourceOptions options, boolean skipUnsampled) {
    if (source == null || source.isBlank()) {
      throw new IllegalArgumentException("video source is empty");
    }
    Matcher cam = WEBCAM.matcher(source);
    FFmpegFrameGrabber g;
    boolean live;
    long base = 0;
    long size = -1;
    String name = source;
    if (cam.matches()) {
      g = new FFmpegFrameGrabber("/dev/video" + cam.group(1));
      g.setFormat("v4l2");
      live = true;
    } else if (URL.matcher(source).matches() && !source.regionMatches(true, 0, "file://", 0, 7)) {
      g = new FFmpegFrameGrabber(source);
      String us = Long.toString(options.readTimeoutMs() * 1000);
      g.setOption("rw_timeout", us); // any protocol: a blocking read gives up after this
      g.setOption("timeout", us); // udp/rtsp/http/tcp socket I/O timeout, in microseconds
      live = true;
    } else {
      Path file = source.regionMatches(true, 0, "file://", 0, 7)
          ? Path.of(java.net.URI.create(source)) : Path.of(source);
      name = file.toString();
      checkFile(file);
      g = new FFmpegFrameGrabber(file.toFile());
      live = false;
      try {
        size = Files.isRegularFile(file) ? Files.size(file) : -1;
        base = options.startTimeMs() != null
            ? options.startTimeMs() : Files.getLastModifiedTime(file).toMillis();
      } catch (java.io.IOException e) {
        throw new VideoSourceException("cannot read " + file + ": " + e.getMessage(), e);
      }
    }
    try {
      g.start();
    } catch (FrameGrabber.Exception | RuntimeException e) {
      release(g);
      throw new VideoSourceException(
          (live ? "cannot open live source " : "cannot read video ") + name + ": " + reason(e), e);
    }
    try {
      String format = String.valueOf(g.getFormat()).toLowerCase(Locale.ROOT);
      if (!g.hasVideo()) {
        throw new VideoSourceException("no video stream in " + name
            + (g.hasAudio() ? " (audio only: " + g.getAudioCodecName() + ")" : " (format " + format + ")"));
      }
      if (format.equals("tty") || "ansi".equals(g.getVideoCodecName())) {
        throw new VideoSourceException("not a video: " + name + " (FFmpeg can only read it as text)");
      }
      VideoSource s = new VideoSource(name, live, options, g, base, size, skipUnsampled);
      s.pacingStartNanos = System.nanoTime();
      return s;
    } catch (RuntimeException e) {
      release(g);
      throw e;
    }
  }

  private static void checkFile(Path file) {
    if (!Files.exists(file)) {
      throw new VideoSourceException("no such file: " + file);
    }
    if (Files.isDirectory(file)) {
      throw new VideoSourceException("not a file but a directory: " + file);
    }
    if (!Files.isReadable(file)) {
      throw new VideoSourceException("cannot read (permission denied): " + file);
    }
    try {
      if (Files.size(file) == 0) {
        throw new VideoSourceException("empty file (0 bytes), not a video: " + file);
      }
    } catch (java.io.IOException e) {
      throw new VideoSourceException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The next sampled frame, or {@code null} when the source has ended (end of file, a decode
   * error that ends a file early, or a live source that went silent or closed).
   */
  public SampledFrame next() {
    if (ended) {
      return null;
    }
    while (true) {
      int r;
      try {
        r = avcodec.avcodec_receive_frame(codec, picture);
      } catch (RuntimeException e) {
        return end(true, (live ? "read failed: " : "decode error: ") + reason(e));
      }
      if (r >= 0) {
        try {
          SampledFrame s = onFrame(picture);
          if (s != null) {
            return s;
          }
        } finally {
          avutil.av_frame_unref(picture);
        }
        continue;
      }
      if (r == avutil.AVERROR_EOF() || flushed) {
        // Drained (or an error while draining): the source has ended.
        return end(false, null);
      }
      // EAGAIN, or a frame the decoder could not decode (as JavaCV, go on with the next packet):
      // feed the next video packet, or start draining at the end of the input.
      try {
        feed();
      } catch (RuntimeException e) {
        return end(true, (live ? "read failed: " : "decode error: ") + reason(e));
      }
    }
  }

  /** Samples one decoded frame; returns it as an upright image when it fills a slot, else null. */
  private SampledFrame onFrame(AVFrame pic) {
    decoded++;
    // The frame's own timestamp in the stream's time base (JavaCV's Frame.timestamp is the
    // same truncated to whole microseconds, which is not exact enough to sample by).
    long pts = pic.best_effort_timestamp();
    if (pts != pic.pts()) {
      // Skip decisions are made on packet timestamps; a frame sampled by a guessed timestamp
      // cannot be predicted from its packet, so decode everything from here on.
      skipOff = true;
    }
    if (pts == avutil.AV_NOPTS_VALUE) {
      pts = lastPts == Long.MIN_VALUE ? 0 : lastEnd;
    }
    long duration = pic.duration() > 0 ? pic.duration() : nominalFrame;
    if ((pic.decode_error_flags() != 0 || (pic.flags() & AVFrame.AV_FRAME_FLAG_CORRUPT) != 0)) {
      lastDamaged = decoded;
    }
    if (firstPts == Long.MIN_VALUE) {
      firstPts = pts;
    }
    lastPts = Math.max(lastPts, pts);
    lastEnd = Math.max(lastEnd, pts + duration);
    if (!sampler.accept(pts)) {
      return null;
    }
    long ptsMs = toUnits(pts, 1000);
    long captureMs = live ? System.currentTimeMillis() : baseTimeMs + ptsMs;
    BufferedImage image = rotate(convert(pic), rotationCw);
    sampled++;
    if (!live && options.speed() > 0) {
      pace(toUnits(pts - firstPts, 1_000_000));
    }
    return new SampledFrame(image, ptsMs, captureMs);
  }

  /**
   * Sends the next video packet to the decoder, with its own skip decision ({@link #unneeded}):
   * a packet no sample point needs is sent with {@code skip_frame = AVDISCARD_NONREF} (the
   * decoder drops it when nothing references it, and decodes it anyway when something does), and
   * an H.264 packet that neither it nor anything before the next IDR needs is not sent at all
   * (an IDR frame refers to nothing before it). At the end of the input the decoder is flushed.
   */
  private void feed() {
    AVPacket p = nextPacket();
    if (p == null) {
      avcodec.avcodec_send_packet(codec, (AVPacket) null);
      flushed = true;
      return;
    }
    try {
      boolean skip = skipAllowed() && unneeded(p.pts());
      if (skip && dropTails && beforeIdrUnneeded()) {
        dropped++;
        return;
      }
      int mode = skip ? avcodec.AVDISCARD_NONREF : avcodec.AVDISCARD_DEFAULT;
      if (codec.skip_frame() != mode) {
        codec.skip_frame(mode);
      }
      if (skip) {
        nonrefMarked++;
      }
      // As JavaCV: a packet the decoder refuses is reported on the frames, if at all.
      avcodec.avcodec_send_packet(codec, p);
    } finally {
      avcodec.av_packet_unref(p);
      spare.addLast(p);
    }
  }

  /**
   * Whether a skip decision may be made for the head packet: skipping is on, sampling has started
   * (the first frame fixes the slots), and for files at least {@value #DAMAGED_TAIL_FRAMES} more
   * packets follow it, so that the last frames of a file are always decoded (a damaged tail is
   * how a cut transport stream is recognised).
   */
  private boolean skipAllowed() {
    if (!skipping || skipOff || firstPts == Long.MIN_VALUE) {
      return false;
    }
    return live || queue.size() >= DAMAGED_TAIL_FRAMES;
  }

  /**
   * Whether no sample point needs the frame at {@code pts}: an earlier frame of the same slot
   * has been read (the first frame reaching a slot fills it, so a later one in the same slot is
   * never sampled, whichever frames are skipped: the first of each slot never is).
   */
  private boolean unneeded(long pts) {
    if (pts == avutil.AV_NOPTS_VALUE || pts < firstPts) {
      return false;
    }
    Long q = seen.lower(pts);
    return q != null && q >= firstPts && sampler.lastSlot(q - firstPts) == sampler.lastSlot(pts - firstPts);
  }

  /** Whether the packets after the head, up to an H.264 IDR packet in the look-ahead, are all unneeded. */
  private boolean beforeIdrUnneeded() {
    for (AVPacket q : queue) {
      if (isIdr(q)) {
        return true;
      }
      if (!unneeded(q.pts())) {
        return false;
      }
    }
    return false;
  }

  /** The next packet of the video stream (from the look-ahead for files), or null at the end. */
  private AVPacket nextPacket() {
    if (live || !skipping) {
      return readPacket();
    }
    // Files: keep DAMAGED_TAIL_FRAMES packets ahead, and for H.264 look for the next IDR.
    while (queue.size() <= DAMAGED_TAIL_FRAMES || (dropTails && queue.size() < LOOKAHEAD && !idrAhead())) {
      AVPacket p = readPacket();
      if (p == null) {
        break;
      }
      queue.addLast(p);
    }
    return queue.pollFirst();
  }

  /** Whether a packet after the head of the look-ahead is an IDR. */
  private boolean idrAhead() {
    boolean first = true;
    for (AVPacket q : queue) {
      if (!first && isIdr(q)) {
        return true;
      }
      first = false;
    }
    return false;
  }

  /** Reads the next video packet from the demuxer, or null at the end of the input or on a read error. */
  private AVPacket readPacket() {
    AVPacket p = spare.isEmpty() ? avcodec.av_packet_alloc() : spare.pollFirst();
    while (true) {
      int r = avformat.av_read_frame(oc, p);
      if (r == avutil.AVERROR_EAGAIN()) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          spare.addLast(p);
          return null;
        }
        continue;
      }
      if (r < 0) {
        // End of input, or a read error: as JavaCV, drain what was decoded; a file that ended
        // early is told by its duration or damaged tail (end()).
        spare.addLast(p);
        return null;
      }
      if (p.stream_index() != videoIndex) {
        avcodec.av_packet_unref(p);
        continue;
      }
      packets++;
      if (p.pts() != avutil.AV_NOPTS_VALUE) {
        seen.add(p.pts());
        if (seen.size() > 1024) {
          seen.pollFirst();
        }
      }
      return p;
    }
  }

  /**
   * Whether an H.264 packet holds an IDR slice (NAL type 5): length-prefixed (MP4, Matroska) or
   * Annex B (MPEG-TS) NAL units. Only key packets are looked at.
   */
  private boolean isIdr(AVPacket p) {
    if ((p.flags() & avcodec.AV_PKT_FLAG_KEY) == 0 || p.size() < 5) {
      return false;
    }
    int n = p.size();
    byte[] b = new byte[n];
    p.data().position(0).get(b, 0, n);
    if (nalLength > 0) {
      int i = 0;
      while (i + nalLength < n) {
        long len = 0;
        for (int k = 0; k < nalLength; k++) {
          len = (len << 8) | (b[i + k] & 0xff);
        }
        int type = b[i + nalLength] & 0x1f;
        if (type == 5) {
          return true;
        }
        if (len <= 0 || len > n) {
          return false;
        }
        i += nalLength + (int) len;
      }
      return false;
    }
    for (int i = 0; i + 3 < n; i++) {
      if (b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1 && (b[i + 3] & 0x1f) == 5) {
        return true;
      }
    }
    return false;
  }

  /**
   * The picture {@code g} decoded last (JavaCV keeps it in a private field): its {@code
   * best_effort_timestamp()} is the frame's PTS in the stream's time base, exact, where JavaCV's
   * {@code Frame.timestamp} is the same truncated to whole microseconds (1/6 s becomes 166666 us,
   * which misses the slot at 1/6 s). Valid until the next grab.
   */
  public static AVFrame decodedPicture(FFmpegFrameGrabber g) {
    try {
      return (AVFrame) PICTURE.get(g);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot reach JavaCV's decoded picture", e);
    }
  }

  private SampledFrame end(boolean error, String note) {
    ended = true;
    if (decoded == 0) {
      throw new VideoSourceException((live ? "no video frames from " : "no decodable video frames in ")
          + name + (note == null ? "" : " (" + note + ")"));
    }
    if (live) {
      endNote = error ? note : "stream ended or went silent";
      return null;
    }
    String reached = String.format(Locale.ROOT, "decoded %.1f s", mediaDurationMs() / 1000.0);
    long frame = nominalFrame > 0 ? nominalFrame : ticks(40, 1, 1000);
    if (error) {
      truncated = true;
      endNote = note + ", " + reached;
    } else if (declaredDuration > 0
        && declaredDuration - (lastEnd - firstPts) > Math.max(ticks(500, 1, 1000), 3 * frame)) {
      // A header that promises more than the file holds: MP4 (moov), Matroska (Info), ...
      truncated = true;
      endNote = String.format(Locale.ROOT, "decoded %.1f s of the declared %.1f s",
          mediaDurationMs() / 1000.0, toUnits(declaredDuration, 1000) / 1000.0);
    } else if (lastDamaged > 0 && decoded - lastDamaged < DAMAGED_TAIL_FRAMES) {
      // No header to compare with (MPEG-TS, ...): the file ends inside a frame, which the decoder
      // could only conceal.
      truncated = true;
      endNote = reached + "; the file ends inside a frame (decode errors in its last frames)";
    } else if (endsInsidePacket()) {
      truncated = true;
      endNote = reached + "; the file ends inside an MPEG-TS packet (" + fileSize
          + " bytes is not a whole number of 188-, 192- or 204-byte packets)";
    }
    return null;
  }

  /** Whether a transport stream file's size is not a whole number of its fixed-size packets. */
  private boolean endsInsidePacket() {
    if (fileSize <= 0 || !format.equals("mpegts")) {
      return false;
    }
    return fileSize % 188 != 0 && fileSize % 192 != 0 && fileSize % 204 != 0;
  }

  /** Sleeps until the frame {@code sinceFirstUs} after the first one is due at the chosen speed. */
  private void pace(long sinceFirstUs) {
    long dueNanos = pacingStartNanos + (long) (sinceFirstUs * 1000 / options.speed());
    long wait = dueNanos - System.nanoTime();
    if (wait > 0) {
      try {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Scales and converts the decoder's picture to BGR in one swscale call. */
  private BufferedImage convert(AVFrame pic) {
    int sw = pic.width();
    int sh = pic.height();
    sws = swscale.sws_getCachedContext(sws, sw, sh, pic.format(), scaledWidth, scaledHeight,
        avutil.AV_PIX_FMT_BGR24, swscale.SWS_BILINEAR, null, null, (DoublePointer) null);
    if (sws == null) {
      throw new VideoSourceException("cannot convert frames of " + name + " (pixel format "
          + pic.format() + ")");
    }
    if (dst == null) {
      dst = new PackedPlane((scaledWidth * 3 + 63) & ~63, scaledHeight);
    }
    swscale.sws_scale(sws, pic.data(), pic.linesize(), 0, sh, dst.data(), dst.linesize());
    BufferedImage img = new BufferedImage(scaledWidth, scaledHeight, BufferedImage.TYPE_3BYTE_BGR);
    dst.copyTo(((DataBufferByte) img.getRaster().getDataBuffer()).getData(), scaledWidth * 3);
    return img;
  }

  /** Rotates a BGR image clockwise by 0, 90, 180 or 270 degrees. */
  static BufferedImage rotate(BufferedImage src, int degreesCw) {
    if (degreesCw == 0) {
      return src;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    boolean swap = degreesCw == 90 || degreesCw == 270;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    BufferedImage out = new BufferedImage(ow, oh, BufferedImage.TYPE_3BYTE_BGR);
    byte[] s = ((DataBufferByte) src.getRaster().getDataBuffer()).getData();
    byte[] d = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int ox;
        int oy;
        switch (degreesCw) {
          case 90 -> { ox = h - 1 - y; oy = x; }
          case 180 -> { ox = w - 1 - x; oy = h - 1 - y; }
          default -> { ox = y; oy = w - 1 - x; } // 270
        }
        int si = (y * w + x) * 3;
        int di = (oy * ow + ox) * 3;
        d[di] = s[si];
        d[di + 1] = s[si + 1];
        d[di + 2] = s[si + 2];
      }
    }
    return out;
  }

  /** Clockwise degrees (0/90/180/270) that make the stored picture upright. */
  private static int rotationOf(FFmpegFrameGrabber g) {
    double theta = 0;
    if (g.getVideoSideData("Display Matrix") != null) {
      // av_display_rotation_get is counter-clockwise; ffmpeg's autorotate uses its negation.
      theta = -g.getDisplayRotation();
    } else {
      String tag = g.getVideoMetadata("rotate");
      if (tag != null && !tag.isBlank()) {
        try {
          theta = Double.parseDouble(tag.trim());
        } catch (NumberFormatException e) {
          theta = 0;
        }
      }
    }
    if (Double.isNaN(theta)) {
      return 0;
    }
    long r = Math.round(theta / 90.0) * 90;
    return (int) (((r % 360) + 360) % 360);
  }

  private static String reason(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    Matcher err = FFMPEG_ERROR.matcher(m);
    if (err.find()) {
      int code = Integer.parseInt(err.group(1));
      byte[] buf = new byte[256];
      if (avutil.av_strerror(code, buf, buf.length) == 0) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
          n++;
        }
        return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return m.replaceAll("\\s+", " ").trim();
  }

  private static void release(FFmpegFrameGrabber g) {
    try {
      g.release();
    } catch (FrameGrabber.Exception | RuntimeException e) {
      // already failing; the original error is what the caller reports
    }
  }

  /** The source as named to the user (file path, URL or device). */
  public String name() {
    return name;
  }

  /** Whether this is a live source (URL or webcam): wall-clock timestamps, no end expected. */
  public boolean live() {
    return live;
  }

  /** Width of the frames {@link #next()} returns (after scaling and rotation). */
  public int width() {
    return rotationCw % 180 == 0 ? scaledWidth : scaledHeight;
  }

  /** Height of the frames {@link #next()} returns (after scaling and rotation). */
  public int height() {
    return rotationCw % 180 == 0 ? scaledHeight : scaledWidth;
  }

  /** Clockwise rotation applied to make frames upright (0, 90, 180 or 270). */
  public int rotation() {
    return rotationCw;
  }

  /** Frames decoded so far (sampled or not). */
  public long decodedFrames() {
    return decoded;
  }

  /** Frames returned by {@link #next()} so far. */
  public long sampledFrames() {
    return sampled;
  }

  /** Media time covered so far: the end of the last decoded frame (PTS + duration) - first PTS, in ms. */
  public long mediaDurationMs() {
    if (decoded == 0) {
      return 0;
    }
    return toUnits(lastEnd - firstPts, 1000);
  }

  /** Whether a file ended before the end it promises (see the class comment). */
  public boolean truncated() {
    return truncated;
  }

  /** Why the source ended early (truncation detail or live disconnect), or empty. */
  public String endNote() {
    return endNote == null ? "" : endNote;
  }

  /** Video packets read so far. */
  public long packetsRead() {
    return packets;
  }

  /** Packets not sent to the decoder (H.264 frames before an IDR that no sample needs). */
  public long packetsDropped() {
    return dropped;
  }

  /**
   * Packets sent with {@code skip_frame = AVDISCARD_NONREF} (no sample needs them; the decoder
   * drops those nothing references).
   */
  public long packetsMarkedSkippable() {
    return nonrefMarked;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (AVPacket p : queue) {
      avcodec.av_packet_free(p);
    }
    for (AVPacket p : spare) {
      avcodec.av_packet_free(p);
    }
    queue.clear();
    spare.clear();
    avutil.av_frame_free(picture);
    release(grabber);
    if (sws != null) {
      swscale.sws_freeContext(sws);
      sws = null;
    }
    if (dst != null) {
      dst.close();
      dst = null;
    }
  }
}
