source "vsphere-iso" "ubuntu" { # ERROR: Source name breaks the naming convention
  vm_name = "ubuntu"
}

source "null" "Linux_Base" { # ERROR: Source name breaks the naming convention
  communicator = "none"
}

source "null" "linux" { # ERROR: Source name breaks the naming convention
  communicator = "none"
}

source "null" "linux--double" { # ERROR: Source name breaks the naming convention
  communicator = "none"
}

source "null" "linux-ubuntu" {
  communicator = "none"
}

build {
  sources = ["source.vsphere-iso.ubuntu", "source.null.Linux_Base", "source.null.linux"]

  source "null.linux-ubuntu" { # ERROR: Build name breaks the naming convention
    name = "Ubuntu-Hardened"
  }
  source "null.linux-ubuntu" {
    name = "linux-ubuntu-minimal"
  }
}
