packer {
  version = "one.two" # ERROR: Invalid version
}

plugin "github.com/hashicorp/vsphere" {
  version = "" # ERROR: Invalid version
}
