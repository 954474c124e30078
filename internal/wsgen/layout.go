package wsgen

import (
	"fmt"
	"path"
	"strconv"
)

// platform is a packer plugin family: a template repository per OS kind
// (Linux, Windows) builds with its ISO builder, derived images with its
// clone builder.
type platform struct {
	name         string // short name, prefix of images and sources
	title        string
	iso, clone   string // builder types
	plugin       string // local name in required_plugins
	pluginSource string
	version      string // locked plugin version
	constraint   string
}

var platforms = []*platform{
	{"vsphere", "VMware vSphere", "vsphere-iso", "vsphere-clone", "vsphere", "github.com/hashicorp/vsphere", "1.2.7", "~> 1.2"},
	{"proxmox", "Proxmox VE", "proxmox-iso", "proxmox-clone", "proxmox", "github.com/hashicorp/proxmox", "1.1.8", "~> 1.1"},
	{"qemu", "QEMU/KVM", "qemu", "qemu", "qemu", "github.com/hashicorp/qemu", "1.1.0", "~> 1.1"},
	{"aws", "Amazon EC2", "amazon-ebs", "amazon-ebs", "amazon", "github.com/hashicorp/amazon", "1.3.2", "~> 1.3"},
	{"azure", "Microsoft Azure", "azure-arm", "azure-arm", "azure", "github.com/hashicorp/azure", "2.1.7", "~> 2.1"},
	{"gcp", "Google Compute Engine", "googlecompute", "googlecompute", "googlecompute", "github.com/hashicorp/googlecompute", "1.1.6", "~> 1.1"},
	{"hyperv", "Microsoft Hyper-V", "hyperv-iso", "hyperv-vmcx", "hyperv", "github.com/hashicorp/hyperv", "1.1.3", "~> 1.1"},
	{"vbox", "Oracle VirtualBox", "virtualbox-iso", "virtualbox-ovf", "virtualbox", "github.com/hashicorp/virtualbox", "1.0.5", "~> 1.0"},
	{"vmware", "VMware Workstation", "vmware-iso", "vmware-vmx", "vmware", "github.com/hashicorp/vmware", "1.0.11", "~> 1.0"},
	{"nutanix", "Nutanix AHV", "nutanix", "nutanix", "nutanix", "github.com/nutanix-cloud-native/nutanix", "0.9.0", "~> 0.9"},
}

const (
	linux   = "linux"
	windows = "windows"
)

// osVersion is one directory of a template repository, one OS version.
type osVersion struct {
	family  string // linux or windows
	distro  string // ubuntu, server, desktop...
	version string // directory name: 22-04-lts, 2022
	title   string
	// editions are the packer sources the directory defines, each a
	// suffix of the source name; nil means one source named after the
	// distro.
	editions []string
}

var linuxCatalog = []osVersion{
	{linux, "ubuntu", "22-04-lts", "Ubuntu Server 22.04 LTS", nil},
	{linux, "rhel", "9", "Red Hat Enterprise Linux 9", nil},
	{linux, "debian", "12", "Debian 12", nil},
	{linux, "rocky", "9", "Rocky Linux 9", nil},
	{linux, "ubuntu", "24-04-lts", "Ubuntu Server 24.04 LTS", nil},
	{linux, "almalinux", "9", "AlmaLinux OS 9", nil},
	{linux, "sles", "15", "SUSE Linux Enterprise Server 15", nil},
	{linux, "oracle", "9", "Oracle Linux 9", nil},
	{linux, "rhel", "8", "Red Hat Enterprise Linux 8", nil},
	{linux, "photon", "5", "VMware Photon OS 5", nil},
	{linux, "ubuntu", "20-04-lts", "Ubuntu Server 20.04 LTS", nil},
	{linux, "debian", "11", "Debian 11", nil},
	{linux, "rocky", "8", "Rocky Linux 8", nil},
	{linux, "almalinux", "8", "AlmaLinux OS 8", nil},
	{linux, "oracle", "8", "Oracle Linux 8", nil},
	{linux, "centos", "9-stream", "CentOS Stream 9", nil},
	{linux, "opensuse", "15", "openSUSE Leap 15", nil},
	{linux, "photon", "4", "VMware Photon OS 4", nil},
	{linux, "fedora", "40", "Fedora Server 40", nil},
	{linux, "ubuntu", "18-04-lts", "Ubuntu Server 18.04 LTS", nil},
	{linux, "debian", "10", "Debian 10", nil},
}

var serverEditions = []string{"standard-core", "datacenter-core", "standard-dexp", "datacenter-dexp"}

var windowsCatalog = []osVersion{
	{windows, "server", "2022", "Windows Server 2022", serverEditions},
	{windows, "desktop", "11", "Windows 11", []string{"enterprise", "pro"}},
	{windows, "server", "2019", "Windows Server 2019", serverEditions},
	{windows, "server", "2025", "Windows Server 2025", serverEditions},
	{windows, "desktop", "10", "Windows 10", []string{"enterprise", "pro"}},
	{windows, "server", "2016", "Windows Server 2016", serverEditions},
}

// apps are what derived images layer on a base image, by OS family.
var apps = map[string][]string{
	linux:   {"web", "db", "cache", "runner", "k8s-node"},
	windows: {"iis", "sql", "ad", "files", "agent"},
}

// source is one git source: a template repository of one platform and OS
// family, checked out under sources/<name>.
type source struct {
	name     string
	plat     *platform
	family   string
	url, ref string
	commit   string
	dirs     []*tmplDir
	next     int // next catalog entry to use
	catalog  []osVersion
}

// dir is the workspace-relative checkout directory.
func (s *source) dir() string { return "sources/" + s.name }

// tmplDir is a template directory with the images built from it.
type tmplDir struct {
	path   string // workspace-relative
	src    *source
	plat   *platform
	os     osVersion
	app    bool   // a templates/apps/<platform> directory of derived images
	base   string // file name stem: linux-ubuntu, windows-server, apps
	images []*image
	// filled holds the subdirectories that received filler files; the
	// template sends them to the machine being built.
	filled map[string]bool
}

// sourceNames are the packer sources the directory defines.
func (d *tmplDir) sourceNames() []string {
	if d.app {
		var out []string
		for _, fam := range []string{linux, windows} {
			for _, a := range apps[fam] {
				out = append(out, fam+"-"+a)
			}
		}
		return out
	}
	if d.os.editions == nil {
		return []string{d.os.family + "-" + d.os.distro}
	}
	var out []string
	for _, e := range d.os.editions {
		out = append(out, d.os.family+"-"+d.os.distro+"-"+e)
	}
	return out
}

// builder is the packer builder type of the directory's sources.
func (d *tmplDir) builder() string {
	if d.app {
		return d.plat.clone
	}
	return d.plat.iso
}

// image is one image block.
type image struct {
	name        string
	dir         *tmplDir
	source      string // packer source name
	family      string
	plat        *platform
	src         *source // the source of the image's base chain
	provisioner string  // "" for the default stack
	inputs      []string
	varFile     string // the OS var file, "" for derived images
	base        *image
	app         string
	cpus, mem   int
}

// build is the image's build attribute.
func (i *image) build() string { return i.dir.builder() + "." + i.source }

// layout is the whole generated workspace, before any byte is written.
type layout struct {
	spec    Spec
	envs    []string
	sources []*source
	dirs    []*tmplDir // base template directories, then app directories
	images  []*image   // base images, then derived images
	// scriptDirs are the input-glob directories, workspace-relative.
	scriptDirs []string
	appFiles   []string // templates/apps/files/<app> directories in use
	stacks     map[string]bool
}

var envNames = []string{"dev", "test", "stage", "prod", "dr"}

func newLayout(spec Spec) (*layout, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	l := &layout{spec: spec, stacks: map[string]bool{}}
	for i := 0; i < spec.Envs; i++ {
		if i < len(envNames) {
			l.envs = append(l.envs, envNames[i])
		} else {
			l.envs = append(l.envs, "env"+strconv.Itoa(i+1))
		}
	}
	capacity := 0
	for i := 0; i < spec.Sources; i++ {
		p := platforms[(i/2)%len(platforms)]
		s := &source{plat: p, family: linux, catalog: linuxCatalog}
		if i%2 == 1 {
			s.family, s.catalog = windows, windowsCatalog
		}
		s.name = p.name + "-" + s.family
		if round := i / (2 * len(platforms)); round > 0 {
			s.name += "-" + strconv.Itoa(round+1)
		}
		s.url = "https://git.example.com/platform/packer-" + s.name + ".git"
		s.ref = "main"
		if i%3 == 2 {
			s.ref = fmt.Sprintf("v%d.%d.0", 1+i%4, i%7)
		}
		s.commit = hexDigest(spec.Seed, "commit", s.name)[:40]
		// Rotate the catalog so that sources of different platforms hold
		// different OS versions first.
		s.next = (i / 2 * 3) % len(s.catalog)
		for _, v := range s.catalog {
			capacity += max(1, len(v.editions))
		}
		l.sources = append(l.sources, s)
	}
	nDerived := spec.derivedCount()
	nBase := spec.Images - nDerived
	if nBase > capacity {
		return nil, fmt.Errorf("%d base images do not fit in %d sources (at most %d); add sources or derived images", nBase, spec.Sources, capacity)
	}
	l.allocateBase(nBase)
	l.allocateDerived(nDerived)
	l.assignInputs()
	return l, nil
}

// allocateBase hands out OS-version directories to the sources in turn,
// each directory with all of its editions, until there are n base images.
func (l *layout) allocateBase(n int) {
	used := make([]int, len(l.sources))
	for count := 0; count < n; {
		for si, s := range l.sources {
			if count == n || used[si] == len(s.catalog) {
				continue
			}
			v := s.catalog[(s.next+used[si])%len(s.catalog)]
			used[si]++
			d := &tmplDir{
				path: path.Join(s.dir(), "builds", v.family, v.distro, v.version),
				src:  s, plat: s.plat, os: v, base: v.family + "-" + v.distro,
			}
			names := d.sourceNames()
			for ei, srcName := range names {
				if count == n {
					break
				}
				img := &image{
					dir: d, source: srcName, family: v.family, plat: s.plat, src: s,
					varFile: path.Join(d.path, d.base+".pkrvars.hcl.example"),
					cpus:    2 << (count % 3), mem: 2048 << (count % 4),
				}
				img.name = s.plat.name + "-" + v.distro + "-" + v.version
				if v.family == windows {
					img.name = s.plat.name + "-windows-" + v.distro + "-" + v.version
					if v.distro == "desktop" {
						img.name = s.plat.name + "-windows-" + v.version
					}
					img.name += "-" + v.editions[ei]
				}
				if s.name != s.plat.name+"-"+s.family {
					// A second round of sources: keep image names unique.
					img.name += "-" + s.name[len(s.plat.name)+1+len(s.family)+1:]
				}
				switch {
				case v.family == linux && count%5 == 4:
					img.provisioner = "puppet"
				case v.family == windows && v.distro == "server" && ei%2 == 0:
					img.provisioner = "none"
				case v.family == windows && v.distro == "server":
					img.provisioner = "puppet"
				}
				d.images = append(d.images, img)
				l.images = append(l.images, img)
				count++
			}
			s.dirs = append(s.dirs, d)
			l.dirs = append(l.dirs, d)
		}
	}
}

// allocateDerived adds n derived images, each layering an application on a
// base image; every eighth layers on the derived image before it, so some
// chains are two deep.
func (l *layout) allocateDerived(n int) {
	bases := append([]*image(nil), l.images...)
	appDirs := map[*platform]*tmplDir{}
	names := map[string]bool{}
	for _, img := range l.images {
		names[img.name] = true
	}
	var derived []*image
	for j := 0; j < n; j++ {
		base := bases[(j*7)%len(bases)]
		appIdx := j % len(apps[base.family])
		if j%8 == 7 {
			prev := derived[j-1]
			base = prev
			appIdx = (indexOf(apps[prev.family], prev.app) + 1) % len(apps[prev.family])
		}
		app := apps[base.family][appIdx]
		d := appDirs[base.plat]
		if d == nil {
			d = &tmplDir{path: "templates/apps/" + base.plat.name, plat: base.plat, app: true, base: "apps"}
			appDirs[base.plat] = d
			l.dirs = append(l.dirs, d)
		}
		img := &image{
			dir: d, source: base.family + "-" + app, family: base.family, plat: base.plat, src: base.src,
			base: base, app: app, cpus: 4, mem: 8192,
		}
		img.name = uniqueName(names, base.name+"-"+app, base.plat.name+"-"+app)
		d.images = append(d.images, img)
		derived = append(derived, img)
	}
	l.images = append(l.images, derived...)
}

// uniqueName returns want, or when it is taken or too long for an address,
// a short name with a number.
func uniqueName(taken map[string]bool, want, short string) string {
	name := want
	for i := 2; taken[name] || len(name) > 63; i++ {
		name = short + "-" + strconv.Itoa(i)
	}
	taken[name] = true
	return name
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// assignInputs gives each image its input globs and records the
// directories those globs and the provisioner stacks cover.
func (l *layout) assignInputs() {
	seen := map[string]bool{}
	addDir := func(list *[]string, dir string) {
		if !seen[dir] {
			seen[dir] = true
			*list = append(*list, dir)
		}
	}
	for _, img := range l.images {
		switch {
		case img.base != nil:
			dir := "templates/apps/files/" + img.app
			img.inputs = []string{dir + "/**"}
			addDir(&l.appFiles, dir)
		case img.family == linux:
			common := img.src.dir() + "/scripts/linux/common"
			distro := img.src.dir() + "/scripts/linux/" + img.dir.os.distro
			img.inputs = []string{common + "/**", distro + "/**"}
			addDir(&l.scriptDirs, common)
			addDir(&l.scriptDirs, distro)
		default:
			dir := img.src.dir() + "/scripts/windows"
			img.inputs = []string{dir + "/**/*.ps1"}
			addDir(&l.scriptDirs, dir)
		}
		switch img.provisioner {
		case "":
			l.stacks["ansible"] = true
		case "none":
		default:
			l.stacks[img.provisioner] = true
		}
	}
}

// platformsInUse lists the platforms some image builds on, in catalog order.
func (l *layout) platformsInUse() []*platform {
	in := map[*platform]bool{}
	for _, img := range l.images {
		in[img.plat] = true
	}
	var out []*platform
	for _, p := range platforms {
		if in[p] {
			out = append(out, p)
		}
	}
	return out
}
