# This file is maintained automatically by "hybrid lock".
# Manual edits may be lost in future updates; commit it to version control.

packer {
  version     = "1.9.4"
  constraints = ">= 1.9.0"
}

plugin "github.com/hashicorp/ansible" {
  version = "1.1.0"
  hashes = [
    "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
  ]
}

plugin "github.com/hashicorp/vsphere" {
  version     = "1.2.1"
  constraints = ">= 1.2.0, < 2.0.0"
  hashes = {
    darwin_arm64 = [
      "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ]
    linux_amd64 = [
      "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
      "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
    ]
  }
}

source "base" {
  url    = "/srv/git/base-$${weird}.git"
  commit = "4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e"
}

source "examples" {
  url    = "https://github.com/vmware-samples/packer-examples-for-vsphere.git"
  ref    = "main"
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
}
