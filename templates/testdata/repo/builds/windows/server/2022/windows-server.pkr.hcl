# Microsoft Windows Server 2022: Standard and Datacenter, Core and Desktop
# Experience, four sources in one build block.

packer {
  required_version = ">= 1.9.4"
  required_plugins {
    vsphere = {
      source  = "github.com/hashicorp/vsphere"
      version = ">= 1.2.1"
    }
    windows-update = {
      source  = "github.com/rgl/windows-update"
      version = ">= 0.14.3"
    }
  }
}

locals {
  vm_name_standard_core       = "${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}-standard-core"
  vm_name_standard_desktop    = "${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}-standard-desktop"
  vm_name_datacenter_core     = "${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}-datacenter-core"
  vm_name_datacenter_desktop  = "${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}-datacenter-desktop"
}

source "vsphere-iso" "windows-server-2022-standard-core" {
  vm_name   = local.vm_name_standard_core
  cd_files  = ["${path.cwd}/scripts/${var.vm_guest_os_family}/"]
  cd_content = {
    "autounattend.xml" = templatefile("${abspath(path.root)}/data/autounattend.pkrtpl.xml", {
      vm_inst_os_image = var.vm_inst_os_image_standard_core
    })
  }
}

source "vsphere-iso" "windows-server-2022-standard-desktop" {
  vm_name = local.vm_name_standard_desktop
}

source "vsphere-iso" "windows-server-2022-datacenter-core" {
  vm_name = local.vm_name_datacenter_core
}

source "vsphere-iso" "windows-server-2022-datacenter-desktop" {
  vm_name = local.vm_name_datacenter_desktop
}

build {
  sources = [
    "source.vsphere-iso.windows-server-2022-standard-core",
    "source.vsphere-iso.windows-server-2022-standard-desktop",
    "source.vsphere-iso.windows-server-2022-datacenter-core",
    "source.vsphere-iso.windows-server-2022-datacenter-desktop",
  ]

  provisioner "powershell" {
    environment_vars = ["BUILD_USERNAME=${var.build_username}"]
    elevated_user    = var.build_username
    elevated_password = var.build_password
    scripts          = formatlist("${path.cwd}/%s", var.scripts)
  }

  provisioner "windows-update" {
    pause_before    = "30s"
    search_criteria = "IsInstalled=0"
    filters = [
      "exclude:$_.Title -like '*VMware*'",
      "include:$true"
    ]
  }

  post-processor "manifest" {
    output     = "${path.cwd}/manifests/${formatdate("YYYY-MM-DD hh:mm:ss", timestamp())}.json"
    strip_path = true
  }
}
