#!/usr/bin/python3
"""The environment a PyTorch reference runs in, and a one-line description of its build.

`moments bench` sets this environment in the child's process itself (BenchReferences.java);
ensure() does the same when a reference script is started by hand, by re-executing the
interpreter once, since glibc reads GLIBC_TUNABLES and GNU OpenMP reads OMP_* only at start-up:

- OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS = the thread count: Debian's torch
  (GNU OpenMP + OpenBLAS) and the wheel (Intel OpenMP + MKL) otherwise start one spinning pool per
  library, sized to the cores, that fight the intra-op threads on a small machine;
- OMP_WAIT_POLICY=PASSIVE: idle OpenMP workers sleep instead of spinning for the next region;
- GLIBC_TUNABLES mmap_threshold = trim_threshold = 1 GiB: glibc mmaps every block over its
  threshold (at most 32 MiB when left dynamic) and unmaps it on free, so each training step would
  map, fault in and unmap every activation again (the paper config's frames at batch 8 are 118 MB,
  attention scores 68 MB); 1 GiB keeps them all in the heap and stops free() from trimming it.

    /usr/bin/python3 bench/torch_env.py     prints the build as one JSON line
"""
import json
import os
import re
import sys

GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824"


def environment(threads):
  t = str(threads)
  return {"OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MKL_NUM_THREADS": t,
          "OMP_WAIT_POLICY": "PASSIVE", "GLIBC_TUNABLES": GLIBC_TUNABLES}


def ensure(argv):
  """Re-executes this interpreter once with environment(--threads) unless it is already set."""
  threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2
  want = environment(threads)
  if all(os.environ.get(k) == v for k, v in want.items()) or os.environ.get("MOMENTS_REFERENCE_REEXEC"):
    return
  env = dict(os.environ, MOMENTS_REFERENCE_REEXEC="1", **want)
  os.execve(sys.executable, [sys.executable] + argv, env)


def describe():
  """Python and torch versions, BLAS, MKL, oneDNN, parallel backend and threads, as a dict."""
  info = {"python": "%d.%d" % sys.version_info[:2], "executable": sys.executable}
  try:
    import torch
  except Exception as e:  # noqa: BLE001 - any import failure means: no usable torch here
    info["error"] = "%s: %s" % (type(e).__name__, e)
    return info
  cfg = torch.__config__.show()
  par = torch.__config__.parallel_info()
  info["torch"] = torch.__version__
  if torch.backends.mkl.is_available():
    info["blas"] = "MKL"
  else:
    libs = set()
    with open("/proc/self/maps") as maps:
      for line in maps:
        path = line.split()[-1]
        if re.search(r"lib(open)?blas|liblapack|libmkl", os.path.basename(path)):
          real = os.path.realpath(path)  # Debian's libblas.so.3 is an alternatives link
          libs.add(os.path.join(os.path.basename(os.path.dirname(real)), os.path.basename(real)))
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    real = sorted(l for l in libs if re.search(r"openblas|mkl", os.path.basename(l)))
    info["blas"] = ", ".join(real or sorted(libs)) or (m.group(1) if m else "?")
  m = re.search(r"(?:MKL-DNN|oneDNN) (v[\d.]+)", cfg)
  info["onednn"] = (m.group(1) if m else "yes") if torch.backends.mkldnn.is_available() else "no"
  m = re.search(r"ATen parallel backend: (\w+)", par)
  info["parallel"] = m.group(1) if m else "?"
  info["threads"] = torch.get_num_threads()
  info["interop_threads"] = torch.get_num_interop_threads()
  return info


if __name__ == "__main__":
  print(json.dumps(describe()), flush=True)
