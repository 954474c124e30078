# Variables of the Ubuntu Server 22.04 LTS build. Values come from the
# shared var files (vsphere, build, common, network) and linux-ubuntu.pkrvars.hcl.

// vSphere credentials

variable "vsphere_endpoint" {
  type        = string
  description = "The fully qualified domain name or IP address of the vCenter Server instance."
}

variable "vsphere_username" {
  type        = string
  description = "The username to login to the vCenter Server instance."
  sensitive   = true
}

variable "vsphere_password" {
  type        = string
  description = "The password for the login to the vCenter Server instance."
  sensitive   = true
}

variable "vsphere_insecure_connection" {
  type    = bool
  default = true
}

// Virtual machine settings

variable "vm_guest_os_family" {
  type    = string
  default = "linux"
}

variable "vm_guest_os_name" {
  type = string
}

variable "vm_guest_os_version" {
  type = string
}

variable "vm_guest_os_type" {
  type = string
}

variable "vm_os_language" {
  type    = string
  default = "en_US"
}

variable "vm_cpu_count" {
  type    = number
  default = 2

  validation {
    condition     = var.vm_cpu_count >= 1
    error_message = "The vm_cpu_count must be at least 1."
  }
}

variable "vm_mem_size" {
  type    = number
  default = "2048"
}

variable "vm_disks" {
  type = list(object({
    size             = number
    thin_provisioned = bool
  }))
  default = [{ size = 40960, thin_provisioned = true }]
}

variable "vm_network" {
  type = object({
    name    = string
    address = string
  })
}

variable "common_iso_datastore" {
  type = string
}

variable "common_content_library_name" {
  type    = string
  default = null
}

variable "iso_path" {
  type = string
}

variable "iso_file" {
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

variable "ssh_keys" {
  type    = list(string)
  default = []
}

variable "dns_servers" {
  default = ["10.0.0.2", "10.0.0.3"]
}

variable "log_dir" {
  type    = string
  default = "${path.cwd}/logs"
}

variable "enable_ansible" {
  type    = bool
  default = true
}

variable "enable_puppet" {
  type    = bool
  default = false
}
