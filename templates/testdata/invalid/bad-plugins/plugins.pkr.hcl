packer {
  required_plugins {
    vsphere = ">= 1.2.0" # ERROR: Invalid plugin requirement
    qemu = { # ERROR: Missing plugin version
      source = "github.com/hashicorp/qemu"
    }
    ansible = { source = "github.com/hashicorp/ansible", version = "~> 1", hash = "x" } # ERROR: Invalid plugin requirement
    docker = { version = ">= 1.0.0" } # ERROR: Missing plugin source
    amazon = { source = "github.com/hashicorp/amazon", version = "latest" } # ERROR: Invalid version constraint
    azure = { source = ["github.com/hashicorp/azure"], version = ">= 2" } # ERROR: Invalid plugin source
    vagrant = { source = "github.com/hashicorp/vagrant", version = var.v } # ERROR: Variables not allowed
    git = { source = "github.com/ethanmdavidson/git", version = ">= 0.4.3" }
  }
}

packer {
  required_plugins {
    git = { source = "github.com/ethanmdavidson/git", version = ">= 0.4.3" } # ERROR: Duplicate required plugin
  }
}
