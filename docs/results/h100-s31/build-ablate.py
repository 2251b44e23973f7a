#!/usr/bin/env python3
"""Session 31: builds, for timing only, a copy of libqspec_cuda.so (sm_90a) whose entry points named in
QSPEC_ABLATE (a comma list of norm, attention, rope) return at once without launching anything: the results are
wrong, the step's other kernels run as before. End to end this bounds what removing those launches could gain.
Usage, from the repository root: python3 docs/results/h100-s31/build-ablate.py OUTDIR (puts OUTDIR/libqspec_cuda.so)."""
import os, re, shutil, subprocess, sys

out = os.path.abspath(sys.argv[1])
src = "/tmp/qspec-ablate"
shutil.rmtree(src, ignore_errors=True)
shutil.copytree("native", src)
hooks = {"norm.cu": [("qspec_rmsnorm_f16", "norm")], "quantize.cu": [("qspec_rmsnorm_quantize", "norm")],
         "attention.cu": [("qspec_attention", "attention")], "rope_kv.cu": [("qspec_rope_write_kv", "rope")]}
for f, entries in hooks.items():
    path = os.path.join(src, "src", f)
    text = open(path).read()
    for name, key in entries:
        m = re.search(r"QSPEC_API int " + name + r"\(.*?\) \{\n", text, re.S)
        assert m, (f, name)
        check = ('    { const char* a_ = getenv("QSPEC_ABLATE"); if (a_ && strstr(a_, "%s")) return 0; }\n' % key)
        text = text[:m.end()] + check + text[m.end():]
    text = "#include <stdlib.h>\n#include <string.h>\n" + text
    open(path, "w").write(text)
subprocess.check_call(["make", "-s", "-C", src, "OUT=" + out, "BUILD=/tmp/qspec-ablate-build",
                       "ARCHS=-gencode=arch=compute_90a,code=sm_90a", out + "/libqspec_cuda.so"])
