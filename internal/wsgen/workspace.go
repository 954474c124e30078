package wsgen

import (
	"fmt"
	"strings"

	"github.com/hybridcore/hybrid/lock"
)

// hybridHCL is the workspace's hybrid.hcl.
func (l *layout) hybridHCL() []byte {
	var b strings.Builder
	nDerived := l.spec.derivedCount()
	fmt.Fprintf(&b, `# %d images (%d derived) in %d environments from %d git sources.
#
#   hybrid validate
#   hybrid plan

hybrid {
  packer_version = %q
  parallelism    = 4
}
`, len(l.images), nDerived, len(l.envs), len(l.sources), packerConstraint)
	used := l.platformsInUse()
	for _, p := range used {
		fmt.Fprintf(&b, "\nplugin %q {\n  source  = %q\n  version = %q\n}\n", p.plugin, p.pluginSource, p.constraint)
	}

	b.WriteString("\n# Secrets: the defaults are placeholders; a pipeline sets HYBRID_VAR_<name>.\n")
	// Every source's var group sets its platform's password, even for a
	// source no image happens to use.
	secrets := []string{"build_password", "build_password_encrypted"}
	seen := map[*platform]bool{}
	for _, s := range l.sources {
		if !seen[s.plat] {
			seen[s.plat] = true
			secrets = append(secrets, s.plat.name+"_password")
		}
	}
	for _, s := range secrets {
		fmt.Fprintf(&b, "variable %q {\n  type      = string\n  sensitive = true\n  default   = %q\n}\n\n", s, "placeholder-"+strings.ReplaceAll(s, "_", "-"))
	}

	for _, s := range l.sources {
		fmt.Fprintf(&b, "source %q {\n  url = %q\n  ref = %q\n}\n\n", s.name, s.url, s.ref)
	}

	b.WriteString("# Connection settings of each template repository, then the shared var files.\n")
	for _, s := range l.sources {
		fmt.Fprintf(&b, "var_group %q {\n  var_files = [%q]\n  values    = { %s_password = var.%s_password }\n}\n\n",
			s.name, s.dir()+"/builds/"+s.plat.name+".pkrvars.hcl.example", s.plat.name, s.plat.name)
	}
	b.WriteString(`var_group "build" {
  var_files = ["vars/build.pkrvars.hcl.example"]
  values = {
    build_password           = var.build_password
    build_password_encrypted = var.build_password_encrypted
  }
}

var_group "common" {
  var_files = ["vars/common.pkrvars.hcl.example"]
}

var_group "network" {
  var_files = ["vars/network.pkrvars.hcl.example"]
}

var_group "storage" {
  var_files = ["vars/storage.pkrvars.hcl.example"]
}
`)
	for i, env := range l.envs {
		b.WriteString(l.environmentBlock(i, env))
	}
	for _, img := range l.images {
		b.WriteString(imageBlock(img))
	}
	return formatHCL(b.String())
}

func (l *layout) environmentBlock(i int, env string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nenvironment %q {\n  description = %q\n", env, "Images for "+env+".")
	if i > 0 {
		parent := l.envs[i-1]
		if i >= len(envNames) {
			parent = l.envs[0]
		}
		fmt.Fprintf(&b, "  parent      = environment.%s\n", parent)
	}
	if env == "prod" || env == "dr" {
		fmt.Fprintf(&b, "  var_files   = [%q]\n", "vars/"+env+".pkrvars.hcl.example")
	}
	b.WriteString("  values = {\n")
	fmt.Fprintf(&b, "    build_environment = %q\n    common_folder = %q\n", env, "templates-"+env)
	if i == 0 {
		fmt.Fprintf(&b, "    common_insecure_connection = true\n    common_content_library = %q\n", "cl-"+env)
		fmt.Fprintf(&b, "    common_tags = { environment = %q, owner = \"platform\" }\n", env)
	} else if i%2 == 0 {
		fmt.Fprintf(&b, "    common_insecure_connection = false\n    common_tags = { environment = %q, owner = \"platform\", tier = %q }\n", env, fmt.Sprint(i))
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

func imageBlock(img *image) string {
	var b strings.Builder
	desc := img.dir.os.title + " on " + img.plat.title + "."
	if img.base != nil {
		desc = fmt.Sprintf("%s layered on %s.", img.app, img.base.name)
	}
	fmt.Fprintf(&b, "\nimage %q {\n  description = %q\n  template    = %q\n  build       = %q\n  working_dir = \".\"\n",
		img.name, desc, img.dir.path, img.build())
	if img.varFile != "" {
		fmt.Fprintf(&b, "  var_files   = [%q]\n", img.varFile)
	}
	fmt.Fprintf(&b, "  var_groups  = [var_group.%s, var_group.build, var_group.common, var_group.network, var_group.storage]\n", img.src.name)
	if img.base != nil {
		fmt.Fprintf(&b, "  values      = { app_name = %q, vm_cpu_count = %d, vm_mem_size = %d }\n", img.app, img.cpus, img.mem)
		fmt.Fprintf(&b, "  depends_on  = [image.%s]\n", img.base.name)
	} else {
		fmt.Fprintf(&b, "  values      = { vm_cpu_count = %d, vm_mem_size = %d }\n", img.cpus, img.mem)
	}
	quoted := make([]string, len(img.inputs))
	for i, in := range img.inputs {
		quoted[i] = fmt.Sprintf("%q", in)
	}
	fmt.Fprintf(&b, "  inputs      = [%s]\n", strings.Join(quoted, ", "))
	if img.provisioner != "" {
		fmt.Fprintf(&b, "  provisioner = %q\n", img.provisioner)
	}
	b.WriteString("}\n")
	return b.String()
}

// lockFile pins packer, the plugins in use and every source.
func (l *layout) lockFile() *lock.File {
	f := &lock.File{
		Packer:  &lock.Packer{Version: packerVersion, Constraints: packerConstraint},
		Plugins: map[string]*lock.Plugin{},
		Sources: map[string]*lock.Source{},
	}
	for _, p := range l.platformsInUse() {
		f.Plugins[p.pluginSource] = &lock.Plugin{
			Source: p.pluginSource, Version: p.version, Constraints: p.constraint,
			Hashes: map[string][]string{
				"linux_amd64":  {"sha256:" + hexDigest(l.spec.Seed, "plugin-linux-amd64", p.pluginSource)},
				"darwin_arm64": {"sha256:" + hexDigest(l.spec.Seed, "plugin-darwin-arm64", p.pluginSource)},
			},
		}
	}
	for _, s := range l.sources {
		f.Sources[s.name] = &lock.Source{Name: s.name, URL: s.url, Ref: s.ref, Commit: s.commit}
	}
	return f
}

// varFiles are the shared var files: vars/*.pkrvars.hcl.example and each
// source's connection settings.
func (l *layout) varFiles() map[string][]byte {
	files := map[string][]byte{
		"vars/build.pkrvars.hcl.example": formatHCL(`# The guest build account. The passwords are hybrid variables, not here.
build_username = "svc-packer"
build_key      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuildKeyOfTheGuestAccountForPackerBuilds svc-packer"
`),
		"vars/common.pkrvars.hcl.example": formatHCL(`# Settings every image shares.
common_vm_version           = 19
common_tools_upgrade_policy = true
common_remove_cdrom         = true
common_template_conversion  = false
common_iso_datastore        = "iso-datastore-01"
common_data_source          = "http"
common_http_port_min        = 8000
common_http_port_max        = 8099
common_ip_wait_timeout      = "20m"
common_shutdown_timeout     = "15m"
`),
		"vars/network.pkrvars.hcl.example": formatHCL(`# Network settings of the build machines.
vm_network_device  = "vmxnet3"
vm_domain          = "example.internal"
common_dns_servers = ["10.0.0.53", "10.0.1.53"]
`),
		"vars/storage.pkrvars.hcl.example": formatHCL(`# Disk settings of the build machines.
vm_disk_size             = 40960
vm_disk_controller_type  = ["pvscsi"]
vm_disk_thin_provisioned = true
`),
	}
	for _, env := range l.envs {
		if env == "prod" || env == "dr" {
			files["vars/"+env+".pkrvars.hcl.example"] = formatHCL(fmt.Sprintf(`# %s publishes templates.
common_template_conversion = true
common_content_library     = "cl-%s"
`, env, env))
		}
	}
	for _, s := range l.sources {
		p := s.plat.name
		files[s.dir()+"/builds/"+p+".pkrvars.hcl.example"] = formatHCL(fmt.Sprintf(`# %s connection settings. Copy to %s.pkrvars.hcl to edit.
%s_endpoint   = "%s.example.internal"
%s_username   = "svc-packer@example.internal"
%s_datacenter = "dc-01"
%s_cluster    = "cluster-%s"
%s_datastore  = "datastore-%s"
%s_network    = "build-network"
`, s.plat.title, p, p, p, p, p, p, s.family, p, s.family, p))
	}
	return files
}

// repoFiles are the files a template repository checkout has besides its
// templates: not inputs of any build.
func (s *source) repoFiles() map[string][]byte {
	return map[string][]byte{
		s.dir() + "/README.md": []byte(fmt.Sprintf("# packer-%s\n\n%s templates for %s, one directory per OS version under builds/.\n",
			s.name, strings.ToUpper(s.family[:1])+s.family[1:], s.plat.title)),
		s.dir() + "/LICENSE":    []byte("BSD 2-Clause License\n\nCopyright (c) Example Platform Team\n"),
		s.dir() + "/.gitignore": []byte("*.pkrvars.hcl\n!*.pkrvars.hcl.example\nmanifests/\n"),
	}
}

// workspaceFiles are the workspace's own small files.
func (l *layout) workspaceFiles() map[string][]byte {
	return map[string][]byte{
		".gitignore": []byte("# written by hybrid and packer\n/configs/\n/state/\n/logs/\n/manifests/\n"),
		"README.md": []byte(fmt.Sprintf("# Image pipeline\n\n%d images in %d environments (%s), built from %d template repositories.\n",
			len(l.images), len(l.envs), strings.Join(l.envs, ", "), len(l.sources))),
	}
}
