plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
  hashes = [
    "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0", # ERROR: Invalid plugin hash
    "sha256:0f1e", # ERROR: Invalid plugin hash
    "h1:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", # ERROR: Invalid plugin hash
  ]
}
