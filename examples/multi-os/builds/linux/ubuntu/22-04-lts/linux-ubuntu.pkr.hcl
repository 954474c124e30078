/*
    DESCRIPTION:
    Ubuntu Server 22.04 LTS, built on vSphere with the vsphere-iso builder.
    Run from the repository root: assets are read from ${path.cwd}/ansible.
*/

//  BLOCK: packer
//  The packer and plugin versions this template needs.

packer {
  required_version = ">= 1.9.0"
  required_plugins {
    vsphere = {
      source  = "github.com/hashicorp/vsphere"
      version = ">= 1.2.0"
    }
  }
}

//  BLOCK: locals
//  Values derived from the variables.

locals {
  build_by          = "Built by: HashiCorp Packer ${packer.version}"
  build_date        = formatdate("YYYY-MM-DD hh:mm ZZZ", timestamp())
  build_version     = formatdate("YY.MM", timestamp())
  build_description = "Version: v${local.build_version}\nBuilt on: ${local.build_date}\n${local.build_by}"
  iso_paths         = ["[${var.common_iso_datastore}] ${var.iso_datastore_path}/${var.iso_file}"]
  manifest_date     = formatdate("YYYY-MM-DD hh:mm:ss", timestamp())
  manifest_path     = "${path.cwd}/manifests/"
  manifest_output   = "${local.manifest_path}${local.manifest_date}.json"
  ovf_export_path   = "${path.cwd}/artifacts/${local.vm_name}"
  vm_name           = "${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}-v${local.build_version}"
  data_source_content = {
    "/meta-data" = file("${abspath(path.root)}/data/meta-data")
    "/user-data" = templatefile("${abspath(path.root)}/data/user-data.pkrtpl.hcl", {
      build_username           = var.build_username
      build_password_encrypted = var.build_password_encrypted
      build_key                = var.build_key
      ansible_username         = var.ansible_username
      ansible_key              = var.ansible_key
      vm_guest_os_language     = var.vm_guest_os_language
      vm_guest_os_keyboard     = var.vm_guest_os_keyboard
      vm_guest_os_timezone     = var.vm_guest_os_timezone
      device                   = var.vm_network_device
      ip                       = var.vm_ip_address
      netmask                  = var.vm_ip_netmask
      gateway                  = var.vm_ip_gateway
      dns                      = var.vm_dns_list
      disk_device              = var.vm_disk_device
      disk_use_swap            = var.vm_disk_use_swap
      additional_packages      = var.additional_packages
    })
  }
  data_source_command = var.common_data_source == "http" ? "ds=\"nocloud-net;seedfrom=http://{{.HTTPIP}}:{{.HTTPPort}}/\"" : "ds=\"nocloud\""
}

//  BLOCK: source
//  The builder configuration.

source "vsphere-iso" "linux-ubuntu" {

  // vCenter Server Endpoint Settings and Credentials
  vcenter_server      = var.vsphere_endpoint
  username            = var.vsphere_username
  password            = var.vsphere_password
  insecure_connection = var.vsphere_insecure_connection

  // vSphere Settings
  datacenter    = var.vsphere_datacenter
  cluster       = var.vsphere_cluster
  datastore     = var.vsphere_datastore
  folder        = var.vsphere_folder
  resource_pool = var.vsphere_resource_pool

  // Virtual Machine Settings
  vm_name              = local.vm_name
  guest_os_type        = var.vm_guest_os_type
  firmware             = var.vm_firmware
  CPUs                 = var.vm_cpu_count
  cpu_cores            = var.vm_cpu_cores
  RAM                  = var.vm_mem_size
  cdrom_type           = var.vm_cdrom_type
  disk_controller_type = var.vm_disk_controller_type
  storage {
    disk_size             = var.vm_disk_size
    disk_thin_provisioned = var.vm_disk_thin_provisioned
  }
  network_adapters {
    network      = var.vsphere_network
    network_card = var.vm_network_card
  }
  vm_version           = var.common_vm_version
  remove_cdrom         = var.common_remove_cdrom
  tools_upgrade_policy = var.common_tools_upgrade_policy
  notes                = local.build_description

  // Removable Media Settings
  iso_paths    = local.iso_paths
  http_content = var.common_data_source == "http" ? local.data_source_content : null
  cd_content   = var.common_data_source == "disk" ? local.data_source_content : null
  cd_label     = var.common_data_source == "disk" ? "cidata" : null

  // Boot and Provisioning Settings
  http_port_min = var.common_http_port_min
  http_port_max = var.common_http_port_max
  boot_order    = "disk,cdrom"
  boot_wait     = "5s"
  boot_command = [
    "<wait3s>c<wait3s>",
    "linux /casper/vmlinuz --- autoinstall ${local.data_source_command}",
    "<enter><wait>",
    "initrd /casper/initrd",
    "<enter><wait>",
    "boot",
    "<enter>"
  ]
  ip_wait_timeout   = var.common_ip_wait_timeout
  ip_settle_timeout = var.common_ip_settle_timeout
  shutdown_command  = "sudo shutdown -P now"
  shutdown_timeout  = var.common_shutdown_timeout

  // Communicator Settings and Credentials
  communicator = "ssh"
  ssh_username = var.build_username
  ssh_password = var.build_password
  ssh_port     = var.communicator_port
  ssh_timeout  = var.communicator_timeout

  // Template and Content Library Settings
  convert_to_template = var.common_template_conversion
  dynamic "content_library_destination" {
    for_each = var.common_content_library_name != null ? [1] : []
    content {
      library     = var.common_content_library_name
      description = local.build_description
      ovf         = var.common_content_library_ovf
      destroy     = var.common_content_library_destroy
      skip_import = var.common_content_library_skip_export
    }
  }

  // OVF Export Settings
  dynamic "export" {
    for_each = var.common_ovf_export_enabled ? [1] : []
    content {
      name             = local.vm_name
      force            = var.common_ovf_export_overwrite
      options          = ["extraconfig"]
      output_directory = local.ovf_export_path
    }
  }
}

//  BLOCK: build
//  The sources to build, the provisioners and the post-processors.

build {
  sources = ["source.vsphere-iso.linux-ubuntu"]

  // Ansible runs from the build host against the new virtual machine, when
  // hybrid turns the stack on (enable_ansible).
  provisioner "shell-local" {
    environment_vars = [
      "ENABLE_ANSIBLE=${var.enable_ansible}",
      "ANSIBLE_CONFIG=${path.cwd}/ansible/ansible.cfg",
      "ANSIBLE_HOST_KEY_CHECKING=False",
    ]
    inline = [
      "if [ \"$ENABLE_ANSIBLE\" = true ]; then ansible-playbook --inventory '${build.Host},' --user '${var.build_username}' --extra-vars 'ansible_username=${var.ansible_username}' '${path.cwd}/ansible/playbook.yml'; fi",
    ]
  }

  // Puppet applies the site manifest inside the guest, when hybrid turns the
  // stack on (enable_puppet).
  provisioner "file" {
    source      = "${path.cwd}/puppet/"
    destination = "/tmp/puppet"
  }

  provisioner "shell" {
    environment_vars = ["ENABLE_PUPPET=${var.enable_puppet}"]
    execute_command  = "sudo -E sh -eu '{{ .Path }}'"
    inline = [
      "if [ \"$ENABLE_PUPPET\" = true ]; then puppet apply --modulepath=/tmp/puppet/modules /tmp/puppet/manifests/site.pp; fi",
      "rm -rf /tmp/puppet",
    ]
  }

  post-processor "manifest" {
    output     = local.manifest_output
    strip_path = true
    strip_time = true
    custom_data = {
      build_username       = var.build_username
      build_date           = local.build_date
      build_version        = local.build_version
      common_data_source   = var.common_data_source
      common_vm_version    = var.common_vm_version
      vm_cpu_count         = var.vm_cpu_count
      vm_mem_size          = var.vm_mem_size
      vm_disk_size         = var.vm_disk_size
      vm_guest_os_type     = var.vm_guest_os_type
      vsphere_cluster      = var.vsphere_cluster
      vsphere_datacenter   = var.vsphere_datacenter
      vsphere_datastore    = var.vsphere_datastore
      vsphere_endpoint     = var.vsphere_endpoint
      vsphere_folder       = var.vsphere_folder
      provisioning_ansible = var.enable_ansible
      provisioning_puppet  = var.enable_puppet
    }
  }
}
