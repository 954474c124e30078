plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
  hashes = {
    linux_amd64 = [
      "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ]
    linx_amd64 = [ # ERROR: Invalid platform
      "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ]
    darwin = [ # ERROR: Invalid platform
      "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ]
    darwin_arm64 = [
      "sha256:0f1e", # ERROR: Invalid plugin hash
    ]
    "linux_amd64" = [ # ERROR: Duplicate platform
      "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
    ]
    windows_amd64 = "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90" # ERROR: Invalid expression
  }
}
