/*
    DESCRIPTION:
    Windows Server 2022, built on vSphere with the vsphere-iso builder: four
    editions (Standard and Datacenter, Core and Desktop Experience), one source
    each, in one build block. Build one with, e.g.,
    -only=vsphere-iso.windows-server-2022-datacenter-core.
    Run from the repository root: assets are read from ${path.cwd}/puppet.
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
  iso_paths         = ["[${var.common_iso_datastore}] ${var.iso_datastore_path}/${var.iso_file}", "[] /vmimages/tools-isoimages/windows.iso"]
  manifest_date     = formatdate("YYYY-MM-DD hh:mm:ss", timestamp())
  manifest_path     = "${path.cwd}/manifests/"
  manifest_output   = "${local.manifest_path}${local.manifest_date}.json"
  ovf_export_path   = "${path.cwd}/artifacts/"
  vm_name_prefix    = "${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}"
  unattend = {
    build_username       = var.build_username
    build_password       = var.build_password
    vm_inst_os_language  = var.vm_inst_os_language
    vm_inst_os_keyboard  = var.vm_inst_os_keyboard
    vm_guest_os_language = var.vm_guest_os_language
    vm_guest_os_keyboard = var.vm_guest_os_keyboard
    vm_guest_os_timezone = var.vm_guest_os_timezone
  }
}

//  BLOCK: source
//  Windows Server 2022 Standard Core.

source "vsphere-iso" "windows-server-2022-standard-core" {

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
  vm_name              = "${local.vm_name_prefix}-standard-core-v${local.build_version}"
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
  iso_paths = local.iso_paths
  cd_content = {
    "autounattend.xml" = templatefile("${abspath(path.root)}/data/autounattend.pkrtpl.xml", merge(local.unattend, {
      vm_inst_os_image   = var.vm_inst_os_image_standard_core
      vm_inst_os_kms_key = var.vm_inst_os_kms_key_standard
    }))
  }

  // Boot and Provisioning Settings
  http_port_min     = var.common_http_port_min
  http_port_max     = var.common_http_port_max
  boot_order        = "disk,cdrom"
  boot_wait         = "2s"
  boot_command      = ["<spacebar>"]
  ip_wait_timeout   = var.common_ip_wait_timeout
  ip_settle_timeout = var.common_ip_settle_timeout
  shutdown_command  = "shutdown /s /t 10 /f /d p:4:1 /c \"Shutdown by Packer\""
  shutdown_timeout  = var.common_shutdown_timeout

  // Communicator Settings and Credentials
  communicator   = "winrm"
  winrm_username = var.build_username
  winrm_password = var.build_password
  winrm_port     = var.communicator_port
  winrm_timeout  = var.communicator_timeout

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
      name             = "${local.vm_name_prefix}-standard-core-v${local.build_version}"
      force            = var.common_ovf_export_overwrite
      options          = ["extraconfig"]
      output_directory = "${local.ovf_export_path}${local.vm_name_prefix}-standard-core"
    }
  }
}

//  BLOCK: source
//  Windows Server 2022 Standard with Desktop Experience.

source "vsphere-iso" "windows-server-2022-standard-dexp" {

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
  vm_name              = "${local.vm_name_prefix}-standard-dexp-v${local.build_version}"
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
  iso_paths = local.iso_paths
  cd_content = {
    "autounattend.xml" = templatefile("${abspath(path.root)}/data/autounattend.pkrtpl.xml", merge(local.unattend, {
      vm_inst_os_image   = var.vm_inst_os_image_standard_desktop
      vm_inst_os_kms_key = var.vm_inst_os_kms_key_standard
    }))
  }

  // Boot and Provisioning Settings
  http_port_min     = var.common_http_port_min
  http_port_max     = var.common_http_port_max
  boot_order        = "disk,cdrom"
  boot_wait         = "2s"
  boot_command      = ["<spacebar>"]
  ip_wait_timeout   = var.common_ip_wait_timeout
  ip_settle_timeout = var.common_ip_settle_timeout
  shutdown_command  = "shutdown /s /t 10 /f /d p:4:1 /c \"Shutdown by Packer\""
  shutdown_timeout  = var.common_shutdown_timeout

  // Communicator Settings and Credentials
  communicator   = "winrm"
  winrm_username = var.build_username
  winrm_password = var.build_password
  winrm_port     = var.communicator_port
  winrm_timeout  = var.communicator_timeout

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
      name             = "${local.vm_name_prefix}-standard-dexp-v${local.build_version}"
      force            = var.common_ovf_export_overwrite
      options          = ["extraconfig"]
      output_directory = "${local.ovf_export_path}${local.vm_name_prefix}-standard-dexp"
    }
  }
}

//  BLOCK: source
//  Windows Server 2022 Datacenter Core.

source "vsphere-iso" "windows-server-2022-datacenter-core" {

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
  vm_name              = "${local.vm_name_prefix}-datacenter-core-v${local.build_version}"
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
  iso_paths = local.iso_paths
  cd_content = {
    "autounattend.xml" = templatefile("${abspath(path.root)}/data/autounattend.pkrtpl.xml", merge(local.unattend, {
      vm_inst_os_image   = var.vm_inst_os_image_datacenter_core
      vm_inst_os_kms_key = var.vm_inst_os_kms_key_datacenter
    }))
  }

  // Boot and Provisioning Settings
  http_port_min     = var.common_http_port_min
  http_port_max     = var.common_http_port_max
  boot_order        = "disk,cdrom"
  boot_wait         = "2s"
  boot_command      = ["<spacebar>"]
  ip_wait_timeout   = var.common_ip_wait_timeout
  ip_settle_timeout = var.common_ip_settle_timeout
  shutdown_command  = "shutdown /s /t 10 /f /d p:4:1 /c \"Shutdown by Packer\""
  shutdown_timeout  = var.common_shutdown_timeout

  // Communicator Settings and Credentials
  communicator   = "winrm"
  winrm_username = var.build_username
  winrm_password = var.build_password
  winrm_port     = var.communicator_port
  winrm_timeout  = var.communicator_timeout

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
      name             = "${local.vm_name_prefix}-datacenter-core-v${local.build_version}"
      force            = var.common_ovf_export_overwrite
      options          = ["extraconfig"]
      output_directory = "${local.ovf_export_path}${local.vm_name_prefix}-datacenter-core"
    }
  }
}

//  BLOCK: source
//  Windows Server 2022 Datacenter with Desktop Experience.

source "vsphere-iso" "windows-server-2022-datacenter-dexp" {

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
  vm_name              = "${local.vm_name_prefix}-datacenter-dexp-v${local.build_version}"
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
  iso_paths = local.iso_paths
  cd_content = {
    "autounattend.xml" = templatefile("${abspath(path.root)}/data/autounattend.pkrtpl.xml", merge(local.unattend, {
      vm_inst_os_image   = var.vm_inst_os_image_datacenter_desktop
      vm_inst_os_kms_key = var.vm_inst_os_kms_key_datacenter
    }))
  }

  // Boot and Provisioning Settings
  http_port_min     = var.common_http_port_min
  http_port_max     = var.common_http_port_max
  boot_order        = "disk,cdrom"
  boot_wait         = "2s"
  boot_command      = ["<spacebar>"]
  ip_wait_timeout   = var.common_ip_wait_timeout
  ip_settle_timeout = var.common_ip_settle_timeout
  shutdown_command  = "shutdown /s /t 10 /f /d p:4:1 /c \"Shutdown by Packer\""
  shutdown_timeout  = var.common_shutdown_timeout

  // Communicator Settings and Credentials
  communicator   = "winrm"
  winrm_username = var.build_username
  winrm_password = var.build_password
  winrm_port     = var.communicator_port
  winrm_timeout  = var.communicator_timeout

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
      name             = "${local.vm_name_prefix}-datacenter-dexp-v${local.build_version}"
      force            = var.common_ovf_export_overwrite
      options          = ["extraconfig"]
      output_directory = "${local.ovf_export_path}${local.vm_name_prefix}-datacenter-dexp"
    }
  }
}

//  BLOCK: build
//  The sources to build, the provisioners and the post-processors.

build {
  sources = [
    "source.vsphere-iso.windows-server-2022-standard-core",
    "source.vsphere-iso.windows-server-2022-standard-dexp",
    "source.vsphere-iso.windows-server-2022-datacenter-core",
    "source.vsphere-iso.windows-server-2022-datacenter-dexp",
  ]

  // Puppet applies the site manifest inside the guest, when hybrid turns the
  // stack on (enable_puppet). The Windows builds have no Ansible stack: the
  // enable_ansible variable only accepts false.
  provisioner "file" {
    source      = "${path.cwd}/puppet/"
    destination = "C:\\Windows\\Temp\\puppet"
  }

  provisioner "powershell" {
    environment_vars  = ["ENABLE_PUPPET=${var.enable_puppet}"]
    elevated_user     = var.build_username
    elevated_password = var.build_password
    inline = [
      "if ($env:ENABLE_PUPPET -eq 'true') { & 'C:\\Program Files\\Puppet Labs\\Puppet\\bin\\puppet.bat' apply --detailed-exitcodes --modulepath=C:\\Windows\\Temp\\puppet\\modules C:\\Windows\\Temp\\puppet\\manifests\\site.pp; if ($LASTEXITCODE -notin 0, 2) { exit $LASTEXITCODE } }",
      "Remove-Item -Recurse -Force C:\\Windows\\Temp\\puppet",
    ]
  }

  provisioner "windows-restart" {}

  post-processor "manifest" {
    output     = local.manifest_output
    strip_path = true
    strip_time = true
    custom_data = {
      build_username      = var.build_username
      build_date          = local.build_date
      build_version       = local.build_version
      common_vm_version   = var.common_vm_version
      vm_cpu_count        = var.vm_cpu_count
      vm_mem_size         = var.vm_mem_size
      vm_disk_size        = var.vm_disk_size
      vm_guest_os_type    = var.vm_guest_os_type
      vsphere_cluster     = var.vsphere_cluster
      vsphere_datacenter  = var.vsphere_datacenter
      vsphere_datastore   = var.vsphere_datastore
      vsphere_endpoint    = var.vsphere_endpoint
      vsphere_folder      = var.vsphere_folder
      provisioning_puppet = var.enable_puppet
    }
  }
}
