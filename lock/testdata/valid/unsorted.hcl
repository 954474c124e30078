# A hand-edited lockfile: blocks out of order, attributes unaligned,
# hashes unsorted and repeated, optional attributes left out.
source "zeta" {
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
  url = "https://example.com/zeta.git"
}
plugin "github.com/hashicorp/vsphere" {
  hashes = ["sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"]
  version = "1.2.1"
}
source "alpha" {
  url = "/srv/git/alpha.git"
  ref = "v1.0.0"
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f708f3c1a2b9d0e4f5a6b7c8d9e"
}
packer {
  version = "1.9.4"
}
