plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
}

plugin "github.com/hashicorp/vsphere" { # ERROR: Duplicate plugin block
  version = "1.2.2"
}
