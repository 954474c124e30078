package wsgen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// formatHCL returns src in canonical HCL layout, as packer fmt leaves it.
func formatHCL(src string) []byte {
	return hclwrite.Format([]byte(src))
}

// packerBlock is the packer block every generated template carries.
func packerBlock(p *platform) string {
	return fmt.Sprintf(`packer {
  required_version = %q
  required_plugins {
    %s = {
      source  = %q
      version = %q
    }
  }
}
`, packerConstraint, p.plugin, p.pluginSource, p.constraint)
}

// packerConstraint is the packer version the workspace and its templates
// require; the lockfile pins packerVersion.
const (
	packerConstraint = ">= 1.9.0"
	packerVersion    = "1.9.4"
)

// templateFile is the main *.pkr.hcl of a template directory: one source
// block per edition (or app) and one build block using them all.
func templateFile(d *tmplDir) []byte {
	var b strings.Builder
	p := d.plat
	if d.app {
		fmt.Fprintf(&b, "// Applications layered on the base images built on %s. hybrid builds the\n", p.title)
		b.WriteString("// base image first, in the same environment, and passes its artifact in\n// var.hybrid_upstream.\n\n")
	} else {
		fmt.Fprintf(&b, "// %s on %s.\n\n", d.os.title, p.title)
	}
	b.WriteString(packerBlock(p))
	b.WriteString(`
locals {
  build_by    = "Built by: HashiCorp Packer ${packer.version}"
  build_date  = formatdate("YYYY-MM-DD hh:mm ZZZ", timestamp())
  manifest    = "${path.cwd}/manifests/${var.build_environment}"
`)
	if d.app {
		b.WriteString("  base = try(values(var.hybrid_upstream)[0], { id = \"\", files = [] })\n")
		b.WriteString("  vm_name = \"${var.app_name}-${var.app_version}\"\n")
	} else {
		b.WriteString("  vm_name = \"${var.vm_guest_os_family}-${var.vm_guest_os_name}-${var.vm_guest_os_version}\"\n")
		b.WriteString("  iso     = \"[${var.common_iso_datastore}] ${var.iso_path}/${var.iso_file}\"\n")
	}
	b.WriteString("}\n")
	var refs []string
	for _, name := range d.sourceNames() {
		refs = append(refs, fmt.Sprintf("%q", "source."+d.builder()+"."+name))
		fmt.Fprintf(&b, "\nsource %q %q {\n", d.builder(), name)
		fmt.Fprintf(&b, "  endpoint            = var.%s_endpoint\n", p.name)
		fmt.Fprintf(&b, "  username            = var.%s_username\n", p.name)
		fmt.Fprintf(&b, "  password            = var.%s_password\n", p.name)
		fmt.Fprintf(&b, "  insecure_connection = var.common_insecure_connection || var.%s_insecure_connection\n", p.name)
		fmt.Fprintf(&b, "  datacenter          = var.%s_datacenter\n", p.name)
		fmt.Fprintf(&b, "  cluster             = var.%s_cluster\n", p.name)
		fmt.Fprintf(&b, "  datastore           = var.%s_datastore\n", p.name)
		b.WriteString("  folder              = var.common_folder\n")
		b.WriteString("  vm_name             = \"${local.vm_name}-" + name + "\"\n")
		b.WriteString("  cpus                = var.vm_cpu_count\n  cpu_cores           = var.vm_cpu_cores\n  memory              = var.vm_mem_size\n")
		b.WriteString("  disk_size           = var.vm_disk_size\n  disk_thin           = var.vm_disk_thin_provisioned\n")
		fmt.Fprintf(&b, "  network             = var.%s_network\n", p.name)
		b.WriteString("  network_card        = var.vm_network_device\n")
		if d.app {
			b.WriteString("  clone_from          = local.base.id\n")
		} else {
			b.WriteString("  guest_os_type       = var.vm_guest_os_type\n  firmware            = var.vm_firmware\n")
			b.WriteString("  iso_paths           = [local.iso]\n  iso_checksum        = \"${var.iso_checksum_type}:${var.iso_checksum_value}\"\n")
			b.WriteString("  boot_wait           = var.vm_boot_wait\n")
		}
		if strings.HasPrefix(name, windows) {
			b.WriteString("  communicator        = \"winrm\"\n  winrm_username      = var.build_username\n  winrm_password      = var.build_password\n  winrm_timeout       = var.communicator_timeout\n")
		} else {
			b.WriteString("  communicator        = \"ssh\"\n  ssh_username        = var.build_username\n  ssh_password        = var.build_password\n  ssh_port            = var.communicator_port\n  ssh_timeout         = var.communicator_timeout\n")
		}
		b.WriteString("  shutdown_timeout    = var.common_shutdown_timeout\n  convert_to_template = var.common_template_conversion\n")
		b.WriteString("  notes               = \"Version: ${var.build_environment}. ${local.build_by} on ${local.build_date}.\"\n}\n")
	}
	fmt.Fprintf(&b, "\nbuild {\n  sources = [%s]\n", strings.Join(refs, ", "))
	// The template's own directories (scripts, drivers, files, answer
	// files...) go to the machine being built: every file in them is an
	// input of the build.
	var subdirs []string
	for _, sd := range templateSubdirs(d) {
		subdirs = append(subdirs, fmt.Sprintf("%q", "${path.root}/"+sd))
	}
	if len(subdirs) > 0 {
		fmt.Fprintf(&b, "\n  provisioner \"file\" {\n    sources     = [%s]\n    destination = \"/tmp/packer-files/\"\n  }\n", strings.Join(subdirs, ", "))
	}
	b.WriteString(`
  provisioner "ansible" {
    user            = var.build_username
    playbook_file   = "${path.cwd}/templates/ansible/playbook.yml"
    roles_path      = "${path.cwd}/templates/ansible/roles"
    extra_arguments = ["--extra-vars", "enabled=${var.enable_ansible} build_key='${var.build_key}'"]
  }

  provisioner "puppet-masterless" {
    manifest_file     = "${path.cwd}/templates/puppet/manifests/site.pp"
    module_paths      = ["${path.cwd}/templates/puppet/modules"]
    prevent_sudo      = !var.enable_puppet
    execute_command   = var.enable_puppet ? "{{.FacterVars}} puppet apply {{.ManifestFile}}" : "true"
  }

  post-processor "manifest" {
    output     = "${local.manifest}/${source.name}-${formatdate("YYYYMMDDhhmmss", timestamp())}.json"
    strip_path = true
    strip_time = true
    custom_data = {
      build_by    = local.build_by
      environment = var.build_environment
      tags        = join(",", [for k, v in var.common_tags : "${k}=${v}"])
    }
  }
}
`)
	return formatHCL(b.String())
}

// templateSubdirs are the subdirectories of a template directory that
// hold files, sorted: its answer files and the filler placed in it.
func templateSubdirs(d *tmplDir) []string {
	seen := map[string]bool{}
	if !d.app {
		seen["data"] = true
	}
	for sd := range d.filled {
		seen[sd] = true
	}
	out := make([]string, 0, len(seen))
	for sd := range seen {
		out = append(out, sd)
	}
	sort.Strings(out)
	return out
}

// osVarFile is the *.pkrvars.hcl.example an OS-version directory ships
// with: the defaults a user starts from.
func osVarFile(d *tmplDir) []byte {
	v := d.os
	typ := map[string]string{linux: "other5xLinux64Guest", windows: "windows2019srvNext_64Guest"}[v.family]
	return formatHCL(fmt.Sprintf(`# %s: guest operating system settings. Copy to %s.pkrvars.hcl to edit.

vm_guest_os_language = "en_US"
vm_guest_os_keyboard = "us"
vm_guest_os_timezone = "UTC"
vm_guest_os_family   = %q
vm_guest_os_name     = %q
vm_guest_os_version  = %q
vm_guest_os_type     = %q
vm_firmware          = "efi"
iso_path             = "iso/%s/%s"
iso_file             = "%s-%s-x86_64.iso"
iso_checksum_type    = "sha256"
iso_checksum_value   = %q
`, v.title, d.base, v.family, v.distro, v.version, typ, v.family, v.distro, v.distro, v.version,
		hexDigest(0, "iso", d.path)))
}

// dataFiles are the answer files of an OS-version directory.
func dataFiles(d *tmplDir) map[string][]byte {
	v := d.os
	switch {
	case v.family == windows:
		return map[string][]byte{"data/autounattend.pkrtpl.xml": []byte(fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="windowsPE">
    <component name="Microsoft-Windows-International-Core-WinPE" processorArchitecture="amd64">
      <InputLocale>${vm_inst_os_keyboard}</InputLocale>
      <SystemLocale>${vm_inst_os_language}</SystemLocale>
    </component>
    <component name="Microsoft-Windows-Setup" processorArchitecture="amd64">
      <ImageInstall><OSImage><InstallFrom><MetaData wcm:action="add">
        <Key>/IMAGE/NAME</Key><Value>${vm_inst_os_image}</Value>
      </MetaData></InstallFrom></OSImage></ImageInstall>
      <UserData><AcceptEula>true</AcceptEula><FullName>${build_username}</FullName></UserData>
    </component>
  </settings>
  <!-- %s -->
</unattend>
`, v.title))}
	case v.distro == "ubuntu" || v.distro == "debian":
		return map[string][]byte{
			"data/user-data.pkrtpl.hcl": []byte(fmt.Sprintf(`#cloud-config
# %s autoinstall
autoinstall:
  version: 1
  locale: ${vm_guest_os_language}
  keyboard:
    layout: ${vm_guest_os_keyboard}
  identity:
    hostname: ${vm_guest_os_name}
    username: ${build_username}
    password: ${build_password_encrypted}
  ssh:
    install-server: true
    allow-pw: true
  storage:
    layout:
      name: lvm
  late-commands:
    - echo '${build_username} ALL=(ALL) NOPASSWD:ALL' > /target/etc/sudoers.d/${build_username}
`, v.title)),
			"data/meta-data": []byte("instance-id: packer\nlocal-hostname: packer\n"),
		}
	default:
		return map[string][]byte{"data/ks.pkrtpl.hcl": []byte(fmt.Sprintf(`# %s kickstart
cdrom
lang ${vm_guest_os_language}
keyboard ${vm_guest_os_keyboard}
network --bootproto=dhcp
rootpw --lock
user --name=${build_username} --iscrypted --password=${build_password_encrypted} --groups=wheel
firewall --enabled --ssh
selinux --enforcing
timezone ${vm_guest_os_timezone}
bootloader --location=mbr
zerombr
clearpart --all --initlabel
autopart --type=lvm
skipx
%%packages --ignoremissing --excludedocs
@core
-iwl*firmware
%%end
reboot --eject
`, v.title))}
	}
}
