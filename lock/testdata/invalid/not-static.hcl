packer {
  version = var.packer_version # ERROR: Variables not allowed
}

plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
  hashes  = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0" # ERROR: Invalid plugin hashes
}
