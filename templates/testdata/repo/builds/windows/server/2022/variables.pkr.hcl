variable "vsphere_endpoint" {
  type = string
}

variable "build_username" {
  type      = string
  sensitive = true
}

variable "build_password" {
  type      = string
  sensitive = true
}

variable "vm_guest_os_family" {
  type    = string
  default = "windows"
}

variable "vm_guest_os_name" {
  type    = string
  default = "server"
}

variable "vm_guest_os_version" {
  type    = string
  default = "2022"
}

variable "vm_inst_os_image_standard_core" {
  type    = string
  default = "Windows Server 2022 SERVERSTANDARDCORE"
}

variable "scripts" {
  type        = list(string)
  description = "Scripts run after the operating system is installed."
  default     = ["scripts/windows/windows-prepare.ps1"]
}

variable "vm_inst_os_kms_key" {
  type = map(string)
  default = {
    standard   = "VDYBN-27WPP-V4HQT-9VMD4-VMK7H"
    datacenter = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"
  }
}
