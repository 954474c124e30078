/*
    DESCRIPTION:
    Windows Server 2022 build variables.
    Many have no default: their values come from the shared var files in
    builds/, from this directory's .pkrvars.hcl.example, and from hybrid.
*/

// Provisioning stacks (hybrid sets the one an image uses to true)
variable "enable_ansible" {
  type        = bool
  description = "Run the Ansible playbook (set by hybrid)."
  default     = false

  validation {
    condition     = !var.enable_ansible
    error_message = "The Windows builds are provisioned with Puppet or nothing; Ansible is not wired for WinRM in this repository."
  }
}

variable "enable_puppet" {
  type        = bool
  description = "Apply the Puppet manifest (set by hybrid)."
  default     = false
}

// vSphere credentials (builds/vsphere.pkrvars.hcl.example)
variable "vsphere_endpoint" {
  type        = string
  description = "The FQDN or IP address of the vCenter Server instance."
}

variable "vsphere_username" {
  type        = string
  description = "The account used to log in to vCenter Server."
}

variable "vsphere_password" {
  type        = string
  description = "The password of the vCenter Server account."
  sensitive   = true
}

variable "vsphere_insecure_connection" {
  type        = bool
  description = "Skip the validation of vCenter Server's TLS certificate."
}

// vSphere settings (builds/vsphere.pkrvars.hcl.example)
variable "vsphere_datacenter" {
  type        = string
  description = "The target vSphere datacenter."
}

variable "vsphere_cluster" {
  type        = string
  description = "The target vSphere cluster."
}

variable "vsphere_datastore" {
  type        = string
  description = "The target vSphere datastore."
}

variable "vsphere_folder" {
  type        = string
  description = "The target vSphere folder."
}

variable "vsphere_resource_pool" {
  type        = string
  description = "The target vSphere resource pool; empty for the cluster's root pool."
  default     = ""
}

// Guest operating system (the per-OS .pkrvars.hcl.example)
variable "vm_guest_os_language" {
  type        = string
  description = "The guest operating system language."
}

variable "vm_guest_os_keyboard" {
  type        = string
  description = "The guest operating system keyboard layout."
}

variable "vm_guest_os_timezone" {
  type        = string
  description = "The guest operating system timezone."
}

variable "vm_guest_os_family" {
  type        = string
  description = "The guest operating system family, used for naming."
}

variable "vm_guest_os_name" {
  type        = string
  description = "The guest operating system name, used for naming."
}

variable "vm_guest_os_version" {
  type        = string
  description = "The guest operating system version, used for naming."
}

variable "vm_guest_os_type" {
  type        = string
  description = "The guest operating system type (guest ID) of the virtual machine."
  default     = "windows2019srvNext_64Guest"
}

variable "vm_inst_os_language" {
  type        = string
  description = "The language of the installation."
}

variable "vm_inst_os_keyboard" {
  type        = string
  description = "The keyboard layout of the installation."
}

variable "vm_inst_os_image_standard_core" {
  type        = string
  description = "The installation image name of Standard Core."
}

variable "vm_inst_os_image_standard_desktop" {
  type        = string
  description = "The installation image name of Standard with Desktop Experience."
}

variable "vm_inst_os_image_datacenter_core" {
  type        = string
  description = "The installation image name of Datacenter Core."
}

variable "vm_inst_os_image_datacenter_desktop" {
  type        = string
  description = "The installation image name of Datacenter with Desktop Experience."
}

variable "vm_inst_os_kms_key_standard" {
  type        = string
  description = "The KMS client key of the Standard edition."
}

variable "vm_inst_os_kms_key_datacenter" {
  type        = string
  description = "The KMS client key of the Datacenter edition."
}

// Virtual machine settings (the per-OS .pkrvars.hcl.example)
variable "vm_firmware" {
  type        = string
  description = "The virtual machine firmware: bios, efi or efi-secure."
  default     = "efi-secure"
}

variable "vm_cdrom_type" {
  type        = string
  description = "The virtual CD-ROM controller type: ide or sata."
  default     = "sata"
}

variable "vm_cpu_count" {
  type        = number
  description = "The number of virtual CPUs."
}

variable "vm_cpu_cores" {
  type        = number
  description = "The number of cores per virtual CPU socket."
}

variable "vm_mem_size" {
  type        = number
  description = "The size of the virtual memory, in MiB."

  validation {
    condition     = var.vm_mem_size >= 1024
    error_message = "The vm_mem_size is in MiB and must be at least 1024."
  }
}

variable "vm_disk_size" {
  type        = number
  description = "The size of the virtual disk, in MiB."
}

variable "vm_network_card" {
  type        = string
  description = "The virtual network card type."
  default     = "vmxnet3"
}

// Storage (builds/storage.pkrvars.hcl.example)
variable "vm_disk_controller_type" {
  type        = list(string)
  description = "The virtual disk controller types, in order."
}

variable "vm_disk_thin_provisioned" {
  type        = bool
  description = "Thin-provision the virtual disk."
}

// Network (builds/network.pkrvars.hcl.example)
variable "vsphere_network" {
  type        = string
  description = "The target vSphere network segment."
}

variable "vm_ip_address" {
  type        = string
  description = "A static IP address for the build; null for DHCP."
  default     = null
}

variable "vm_ip_netmask" {
  type        = number
  description = "The prefix length of the static IP address."
}

variable "vm_ip_gateway" {
  type        = string
  description = "The default gateway of the static IP address."
}

variable "vm_dns_list" {
  type        = list(string)
  description = "The DNS servers of the static IP address."
}

// Common settings (builds/common.pkrvars.hcl.example)
variable "common_vm_version" {
  type        = number
  description = "The virtual hardware version."
}

variable "common_tools_upgrade_policy" {
  type        = bool
  description = "Upgrade VMware Tools on reboot."
}

variable "common_remove_cdrom" {
  type        = bool
  description = "Remove the virtual CD-ROMs after the build."
}

variable "common_template_conversion" {
  type        = bool
  description = "Convert the virtual machine to a template; false with a content library."
}

variable "common_content_library_name" {
  type        = string
  description = "The content library the template is imported into; null for none."
}

variable "common_content_library_ovf" {
  type        = bool
  description = "Import into the content library as an OVF template."
}

variable "common_content_library_destroy" {
  type        = bool
  description = "Delete the virtual machine once it is in the content library."
}

variable "common_content_library_skip_export" {
  type        = bool
  description = "Skip the import into the content library."
}

variable "common_ovf_export_enabled" {
  type        = bool
  description = "Export an OVF artifact."
}

variable "common_ovf_export_overwrite" {
  type        = bool
  description = "Overwrite an existing OVF artifact."
}

variable "common_iso_datastore" {
  type        = string
  description = "The datastore holding the installation ISO images."
}

variable "common_data_source" {
  type        = string
  description = "How the unattended installation data reaches the guest: http or disk."

  validation {
    condition     = contains(["http", "disk"], var.common_data_source)
    error_message = "The common_data_source must be http or disk."
  }
}

variable "common_http_port_min" {
  type        = number
  description = "The start of packer's HTTP port range."
}

variable "common_http_port_max" {
  type        = number
  description = "The end of packer's HTTP port range."
}

variable "common_ip_wait_timeout" {
  type        = string
  description = "How long to wait for the guest's IP address."
}

variable "common_ip_settle_timeout" {
  type        = string
  description = "How long the guest's IP address must stay the same."
  default     = "5s"
}

variable "common_shutdown_timeout" {
  type        = string
  description = "How long to wait for the guest to shut down."
}

// Installation media (the per-OS .pkrvars.hcl.example)
variable "iso_datastore_path" {
  type        = string
  description = "The path of the ISO image on the ISO datastore."
}

variable "iso_file" {
  type        = string
  description = "The file name of the ISO image."
}

// Build account (builds/build.pkrvars.hcl.example; secrets come from hybrid)
variable "build_username" {
  type        = string
  description = "The account packer logs in with during the build."
}

variable "build_password" {
  type        = string
  description = "The password of the build account."
  sensitive   = true
}

variable "build_key" {
  type        = string
  description = "The SSH public key of the build account; unused on Windows, declared for the shared build var file."
  default     = ""
}

variable "ansible_username" {
  type        = string
  description = "The account Ansible logs in with; unused on Windows, declared for the shared build var file."
  default     = ""
}

variable "ansible_key" {
  type        = string
  description = "The SSH public key of the Ansible account; unused on Windows, declared for the shared build var file."
  default     = ""
}

variable "communicator_port" {
  type        = number
  description = "The port of the communicator."
  default     = 5985
}

variable "communicator_timeout" {
  type        = string
  description = "How long to wait for the communicator."
  default     = "30m"
}
