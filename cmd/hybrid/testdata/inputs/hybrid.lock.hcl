# This file is maintained automatically by "hybrid lock".
# Manual edits may be lost in future updates; commit it to version control.

packer {
  version     = "1.9.4"
  constraints = ">= 1.9.0"
}

plugin "github.com/hashicorp/qemu" {
  version     = "1.1.0"
  constraints = ">= 1.0.0"
  hashes = [
    "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
  ]
}
