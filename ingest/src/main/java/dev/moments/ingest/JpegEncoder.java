package dev.moments.ingest;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.Locale;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.ffmpeg.global.swscale;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.DoublePointer;

/**
 * Encodes frames as baseline JPEG (JFIF, 4:2:0) with FFmpeg's MJPEG encoder, the one {@code
 * ffmpeg -c:v mjpeg} uses: BGR to full-range YUV in swscale, then one encoder call, all in native
 * code. (ImageIO's writer took 10x as long per 720p frame as this on the same machine.) The
 * quality in (0, 1] maps to FFmpeg's quantiser scale as libjpeg's quality does to its table
 * scale: {@code q = (200 - 200 * quality) / 10} for quality >= 0.5 ({@code 0.85} is {@code -q:v 3},
 * 1.0 the finest, 1), {@code 500 / (100 * quality)} below, clamped to 1..31. Not thread-safe.
 */
public final class JpegEncoder implements AutoCloseable {
  static {
    // As VideoSource: FFmpeg's own log lines would break the one-line error contract.
    avutil.av_log_set_level(
        Boolean.getBoolean("moments.ffmpeg.verbose") ? avutil.AV_LOG_INFO : avutil.AV_LOG_QUIET);
  }

  private final int lambda;
  private final AVCodec codec;
  private AVCodecContext ctx;
  private SwsContext sws;
  private AVFrame frame;
  private AVPacket pkt;
  private PackedPlane src;
  private int width;
  private int height;
  private long pts;

  /** @param quality JPEG quality in (0, 1], e.g. 0.85 */
  public JpegEncoder(double quality) {
    if (!(quality > 0) || quality > 1) {
      throw new IllegalArgumentException("jpeg quality must be in (0, 1], got " + quality);
    }
    double q = quality >= 0.5 ? (200 - 200 * quality) / 10 : 500 / (100 * quality);
    this.lambda = (int) Math.round(Math.max(1, Math.min(31, q)) * avutil.FF_QP2LAMBDA);
    this.codec = avcodec.avcodec_find_encoder(avcodec.AV_CODEC_ID_MJPEG);
    if (codec == null) {
      throw new IllegalStateException("FFmpeg has no MJPEG encoder");
    }
  }

  /** The quantiser scale this encoder uses (FFmpeg's {@code -q:v}). */
  public double qscale() {
    return lambda / (double) avutil.FF_QP2LAMBDA;
  }

  public byte[] encode(BufferedImage image) {
    BufferedImage bgr = image.getType() == BufferedImage.TYPE_3BYTE_BGR ? image : toBgr(image);
    int w = bgr.getWidth();
    int h = bgr.getHeight();
    if (ctx == null || w != width || h != height) {
      open(w, h);
    }
    byte[] px = ((DataBufferByte) bgr.getRaster().getDataBuffer()).getData();
    src.fill(px, w * 3);
    if (avutil.av_frame_make_writable(frame) < 0) {
      throw new IllegalStateException("JPEG encoding failed: frame buffer not writable");
    }
    swscale.sws_scale(sws, src.data(), src.linesize(), 0, h, frame.data(), frame.linesize());
    frame.pts(pts++);
    frame.quality(lambda);
    int r = avcodec.avcodec_send_frame(ctx, frame);
    if (r < 0) {
      throw new IllegalStateException("JPEG encoding failed: " + error(r));
    }
    r = avcodec.avcodec_receive_packet(ctx, pkt);
    if (r < 0) {
      throw new IllegalStateException("JPEG encoding failed: " + error(r));
    }
    try {
      byte[] out = new byte[pkt.size()];
      pkt.data().position(0).get(out);
      return out;
    } finally {
      avcodec.av_packet_unref(pkt);
    }
  }

  private void open(int w, int h) {
    free();
    AVCodecContext c = avcodec.avcodec_alloc_context3(codec);
    c.width(w);
    c.height(h);
    c.pix_fmt(avutil.AV_PIX_FMT_YUVJ420P);
    c.color_range(avutil.AVCOL_RANGE_JPEG);
    c.time_base(avutil.av_make_q(1, 25));
    c.flags(c.flags() | avcodec.AV_CODEC_FLAG_QSCALE);
    c.global_quality(lambda);
    c.qmin(1);
    c.qmax(31);
    c.thread_count(0);
    c.thread_type(2 /* FF_THREAD_SLICE */); // one frame in, one JPEG out: no frame-thread delay
    int r = avcodec.avcodec_open2(c, codec, (org.bytedeco.ffmpeg.avutil.AVDictionary) null);
    if (r < 0) {
      avcodec.avcodec_free_context(c);
      throw new IllegalStateException(String.format(Locale.ROOT, "cannot open the MJPEG encoder for %dx%d: %s",
          w, h, error(r)));
    }
    ctx = c;
    width = w;
    height = h;
    frame = avutil.av_frame_alloc();
    frame.format(avutil.AV_PIX_FMT_YUVJ420P);
    frame.width(w);
    frame.height(h);
    frame.color_range(avutil.AVCOL_RANGE_JPEG);
    if (avutil.av_frame_get_buffer(frame, 0) < 0) {
      throw new IllegalStateException("cannot allocate a " + w + "x" + h + " frame for JPEG encoding");
    }
    pkt = avcodec.av_packet_alloc();
    sws = swscale.sws_getContext(w, h, avutil.AV_PIX_FMT_BGR24, w, h, avutil.AV_PIX_FMT_YUVJ420P,
        swscale.SWS_AREA, null, null, (DoublePointer) null);
    if (sws == null) {
      throw new IllegalStateException("cannot convert " + w + "x" + h + " BGR to YUV for JPEG encoding");
    }
    src = new PackedPlane(w * 3, h);
  }

  private static BufferedImage toBgr(BufferedImage image) {
    BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = out.createGraphics();
    g.drawImage(image, 0, 0, null);
    g.dispose();
    return out;
  }

  private static String error(int code) {
    byte[] buf = new byte[256];
    if (avutil.av_strerror(code, buf, buf.length) == 0) {
      int n = 0;
      while (n < buf.length && buf[n] != 0) {
        n++;
      }
      return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
    return "error " + code;
  }

  private void free() {
    if (ctx != null) {
      avcodec.avcodec_free_context(ctx);
      ctx = null;
    }
    if (frame != null) {
      avutil.av_frame_free(frame);
      frame = null;
    }
    if (pkt != null) {
      avcodec.av_packet_free(pkt);
      pkt = null;
    }
    if (sws != null) {
      swscale.sws_freeContext(sws);
      sws = null;
    }
    if (src != null) {
      src.close();
      src = null;
    }
  }

  @Override
  public void close() {
    free();
  }
}
