# The source this build uses is in the file that does not parse, so the
# reference is not reported as undefined.
build {
  sources = ["source.null.linux-broken"]
}
