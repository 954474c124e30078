plugin "vsphere" {
  source  = "vsphere" # ERROR: Invalid plugin source
  version = ">= 1.2.0"
}
