packer {
  version     = "1.9.4"
  constraints = ">== 1.9" # ERROR: Invalid version constraint
}

plugin "github.com/hashicorp/vsphere" {
  version     = "1.2.1"
  constraints = ">= 1.2.0, banana" # ERROR: Invalid version constraint
}
