package wsgen

import (
	"fmt"
	"strings"
)

// varDecl is a packer variable the generated templates declare.
type varDecl struct {
	name, typ, desc string
	def             string // HCL literal; "" declares it without default
	sensitive       bool
}

func connectionVars(p *platform) []varDecl {
	n := p.name
	return []varDecl{
		{name: n + "_endpoint", typ: "string", desc: "The FQDN or IP address of the " + p.title + " endpoint."},
		{name: n + "_username", typ: "string", desc: "The account that builds on " + p.title + "."},
		{name: n + "_password", typ: "string", desc: "The password of the " + p.title + " build account.", sensitive: true},
		{name: n + "_datacenter", typ: "string", desc: "The datacenter or region to build in."},
		{name: n + "_cluster", typ: "string", desc: "The cluster, pool or zone to build in."},
		{name: n + "_datastore", typ: "string", desc: "The datastore or storage account for the image disks."},
		{name: n + "_network", typ: "string", desc: "The network the build machine joins."},
		{name: n + "_insecure_connection", typ: "bool", desc: "Skip TLS verification of the endpoint.", def: "false"},
	}
}

var buildVars = []varDecl{
	{name: "build_username", typ: "string", desc: "The guest account packer connects with."},
	{name: "build_password", typ: "string", desc: "The password of the guest build account.", sensitive: true},
	{name: "build_password_encrypted", typ: "string", desc: "The build account password, crypt(3)-hashed.", sensitive: true},
	{name: "build_key", typ: "string", desc: "The public key of the guest build account."},
}

var commonVars = []varDecl{
	{name: "common_vm_version", typ: "number", desc: "The virtual hardware version."},
	{name: "common_tools_upgrade_policy", typ: "bool", desc: "Upgrade the guest tools at power cycle."},
	{name: "common_remove_cdrom", typ: "bool", desc: "Remove the CD-ROM drives when the build ends."},
	{name: "common_template_conversion", typ: "bool", desc: "Convert the machine to a template."},
	{name: "common_iso_datastore", typ: "string", desc: "The datastore holding the installation ISOs."},
	{name: "common_data_source", typ: "string", desc: "How the guest gets its answer file: http or disk."},
	{name: "common_http_port_min", typ: "number", desc: "The lowest port of packer's HTTP server."},
	{name: "common_http_port_max", typ: "number", desc: "The highest port of packer's HTTP server."},
	{name: "common_ip_wait_timeout", typ: "string", desc: "How long to wait for the guest's IP address."},
	{name: "common_shutdown_timeout", typ: "string", desc: "How long to wait for the guest to shut down."},
}

var networkVars = []varDecl{
	{name: "vm_network_device", typ: "string", desc: "The network adapter type."},
	{name: "vm_domain", typ: "string", desc: "The DNS domain of the build machine."},
	{name: "common_dns_servers", typ: "list(string)", desc: "The DNS servers of the build machine."},
}

var storageVars = []varDecl{
	{name: "vm_disk_size", typ: "number", desc: "The size of the system disk in MB."},
	{name: "vm_disk_controller_type", typ: "list(string)", desc: "The disk controller types, in order."},
	{name: "vm_disk_thin_provisioned", typ: "bool", desc: "Thin-provision the system disk."},
}

var envVars = []varDecl{
	{name: "build_environment", typ: "string", desc: "The environment the image is built for."},
	{name: "common_folder", typ: "string", desc: "The folder or resource group that receives the image."},
	{name: "common_insecure_connection", typ: "bool", desc: "Allow self-signed certificates in this environment."},
	{name: "common_content_library", typ: "string", desc: "The content library or gallery the image is published to."},
	{name: "common_tags", typ: "map(string)", desc: "Tags put on the image."},
}

var osVars = []varDecl{
	{name: "vm_guest_os_language", typ: "string", desc: "The guest operating system language."},
	{name: "vm_guest_os_keyboard", typ: "string", desc: "The guest operating system keyboard layout."},
	{name: "vm_guest_os_timezone", typ: "string", desc: "The guest operating system timezone."},
	{name: "vm_guest_os_family", typ: "string", desc: "The guest operating system family."},
	{name: "vm_guest_os_name", typ: "string", desc: "The guest operating system name."},
	{name: "vm_guest_os_version", typ: "string", desc: "The guest operating system version."},
	{name: "vm_guest_os_type", typ: "string", desc: "The guest operating system type the hypervisor knows."},
	{name: "vm_firmware", typ: "string", desc: "The firmware: bios or efi."},
	{name: "iso_path", typ: "string", desc: "The path of the ISO in the ISO datastore."},
	{name: "iso_file", typ: "string", desc: "The file name of the installation ISO."},
	{name: "iso_checksum_type", typ: "string", desc: "The checksum algorithm of the ISO."},
	{name: "iso_checksum_value", typ: "string", desc: "The checksum of the ISO."},
}

var machineVars = []varDecl{
	{name: "vm_cpu_count", typ: "number", desc: "The number of virtual CPUs.", def: "2"},
	{name: "vm_cpu_cores", typ: "number", desc: "The number of cores per virtual CPU.", def: "1"},
	{name: "vm_mem_size", typ: "number", desc: "The memory size in MB.", def: "2048"},
	{name: "vm_cdrom_type", typ: "string", desc: "The CD-ROM controller type.", def: `"sata"`},
	{name: "vm_video_mem_size", typ: "number", desc: "The video memory size in KB.", def: "4096"},
	{name: "vm_boot_wait", typ: "string", desc: "How long to wait before typing the boot command.", def: `"5s"`},
	{name: "communicator_port", typ: "number", desc: "The port packer connects to.", def: "22"},
	{name: "communicator_timeout", typ: "string", desc: "How long to wait for the communicator.", def: `"30m"`},
}

var toggleVars = []varDecl{
	{name: "enable_ansible", typ: "bool", desc: "Run the Ansible stack (templates/ansible).", def: "false"},
	{name: "enable_puppet", typ: "bool", desc: "Run the Puppet stack (templates/puppet).", def: "false"},
}

var appVars = []varDecl{
	{name: "app_name", typ: "string", desc: "The application layered on the base image."},
	{name: "app_version", typ: "string", desc: "The application version.", def: `"latest"`},
	{name: "hybrid_upstream", typ: "map(object({ id = string, files = list(string) }))", desc: "The base images' artifacts, set by hybrid (depends_on).", def: "{}"},
}

// templateVars are every variable a template directory declares.
func templateVars(d *tmplDir) [][]varDecl {
	groups := [][]varDecl{connectionVars(d.plat), buildVars, commonVars, networkVars, storageVars, envVars}
	if d.app {
		groups = append(groups, appVars)
	} else {
		groups = append(groups, osVars)
	}
	return append(groups, machineVars, toggleVars)
}

// variablesFile is a template directory's variables.pkr.hcl.
func variablesFile(d *tmplDir) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "// Variables of the %s template. Values come from the var files and\n", d.base)
	b.WriteString("// hybrid.hcl layers, rendered by hybrid into configs/<env>/<image>.pkrvars.hcl.\n")
	for _, group := range templateVars(d) {
		for _, v := range group {
			fmt.Fprintf(&b, "\nvariable %q {\n  type        = %s\n  description = %q\n", v.name, v.typ, v.desc)
			if v.sensitive {
				b.WriteString("  sensitive   = true\n")
			}
			if v.def != "" {
				fmt.Fprintf(&b, "  default     = %s\n", v.def)
			}
			b.WriteString("}\n")
		}
	}
	return formatHCL(b.String())
}
