package wsgen

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
)

// fileSpec is one file to write: fixed content, or filler of a size.
type fileSpec struct {
	path    string
	content []byte // nil for filler
	size    int64
	binary  bool
}

// shape is a kind of filler file in a directory: where it goes, its
// extension, whether it is binary, how often it occurs and how large it
// tends to be.
type shape struct {
	sub    func(g int) string // subdirectory for group g of 40 files
	ext    string
	binary bool
	weight int
	mul    float64
}

func fixed(s string) func(int) string { return func(int) string { return s } }

func grouped(prefix string, names []string) func(int) string {
	return func(g int) string { return prefix + "/" + names[g%len(names)] + "-" + strconv.Itoa(g) }
}

var (
	vendors = []string{"vmware", "intel", "mellanox", "broadcom", "qlogic", "nvidia", "virtio", "amd"}
	roles   = []string{"base", "hardening", "users", "ntp", "logging", "monitoring", "docker", "cis", "updates", "certs"}
	modules = []string{"profile", "role", "baseline", "accounts", "firewall", "registry", "features", "iis"}
)

// inGroup places group g of files in a subdirectory of a named unit (a role,
// a module): prefix/<name>-<g>/inner.
func inGroup(prefix string, names []string, inner string) func(int) string {
	return func(g int) string { return prefix + "/" + names[g%len(names)] + "-" + strconv.Itoa(g) + "/" + inner }
}

var shapes = map[string][]shape{
	"linux-template": {
		{fixed("scripts"), ".sh", false, 4, 1},
		{grouped("files", []string{"etc", "profile", "repos"}), ".conf", false, 4, 1},
		{fixed("files/certs"), ".pem", false, 1, 1},
		{fixed("data/snippets"), ".pkrtpl.hcl", false, 2, 1},
		{fixed("files/packages"), ".rpm", true, 1, 6},
	},
	"windows-template": {
		{grouped("drivers", vendors), ".inf", false, 3, 1},
		{grouped("drivers", vendors), ".sys", true, 3, 3},
		{grouped("drivers", vendors), ".cat", true, 2, 0.3},
		{fixed("scripts"), ".ps1", false, 3, 1},
		{fixed("files"), ".xml", false, 2, 1},
		{fixed("updates"), ".msu", true, 1, 15},
	},
	"app-template": {
		{fixed("files"), ".conf", false, 2, 1},
		{fixed("scripts"), ".sh", false, 2, 1},
		{fixed("scripts"), ".ps1", false, 1, 1},
	},
	"ansible": {
		{inGroup("roles", roles, "tasks"), ".yml", false, 5, 1},
		{inGroup("roles", roles, "handlers"), ".yml", false, 1, 0.5},
		{inGroup("roles", roles, "templates"), ".j2", false, 3, 1},
		{inGroup("roles", roles, "files"), ".conf", false, 2, 1},
		{inGroup("roles", roles, "files"), ".tar.gz", true, 1, 8},
	},
	"puppet": {
		{inGroup("modules", modules, "manifests"), ".pp", false, 5, 1},
		{inGroup("modules", modules, "templates"), ".erb", false, 3, 1},
		{inGroup("modules", modules, "lib/facter"), ".rb", false, 1, 1},
		{inGroup("modules", modules, "files"), ".zip", true, 1, 8},
	},
	"scripts-linux": {
		{grouped("", []string{"install", "configure", "cleanup"}), ".sh", false, 5, 1},
		{fixed("conf"), ".conf", false, 1, 1},
	},
	"scripts-windows": {
		{grouped("", []string{"install", "configure", "cleanup", "updates"}), ".ps1", false, 1, 1},
	},
	"app-files": {
		{fixed("conf"), ".conf", false, 3, 1},
		{fixed("bin"), ".sh", false, 2, 1},
		{fixed("dist"), ".tar.gz", true, 1, 10},
	},
}

// bucket is a directory that receives filler files, all of them inputs.
type bucket struct {
	dir    string
	kind   string
	weight float64
	count  int
}

// buckets lists the input directories with their share of the filler.
func (l *layout) buckets() []*bucket {
	var out []*bucket
	add := func(share float64, list []*bucket) {
		var total float64
		for _, b := range list {
			total += b.weight
		}
		for _, b := range list {
			b.weight = share * b.weight / total
			out = append(out, b)
		}
	}
	var tmpl, app []*bucket
	for _, d := range l.dirs {
		switch {
		case d.app:
			app = append(app, &bucket{dir: d.path, kind: "app-template", weight: 1})
		case d.os.family == windows && d.os.distro == "server":
			tmpl = append(tmpl, &bucket{dir: d.path, kind: "windows-template", weight: 4})
		case d.os.family == windows:
			tmpl = append(tmpl, &bucket{dir: d.path, kind: "windows-template", weight: 3})
		default:
			tmpl = append(tmpl, &bucket{dir: d.path, kind: "linux-template", weight: 1})
		}
	}
	add(70, append(tmpl, app...))
	if l.stacks["ansible"] {
		add(9, []*bucket{{dir: "templates/ansible", kind: "ansible", weight: 1}})
	}
	if l.stacks["puppet"] {
		add(4, []*bucket{{dir: "templates/puppet", kind: "puppet", weight: 1}})
	}
	var scripts []*bucket
	for _, d := range l.scriptDirs {
		if path.Base(d) == windows {
			scripts = append(scripts, &bucket{dir: d, kind: "scripts-windows", weight: 2})
		} else {
			scripts = append(scripts, &bucket{dir: d, kind: "scripts-linux", weight: 1})
		}
	}
	add(12, scripts)
	var appFiles []*bucket
	for _, d := range l.appFiles {
		appFiles = append(appFiles, &bucket{dir: d, kind: "app-files", weight: 1})
	}
	if len(appFiles) > 0 {
		add(5, appFiles)
	}
	return out
}

// distribute splits n among the buckets by weight (largest remainder).
func distribute(n int, bs []*bucket) {
	var total float64
	for _, b := range bs {
		total += b.weight
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(bs))
	left := n
	for i, b := range bs {
		exact := float64(n) * b.weight / total
		b.count = int(math.Floor(exact))
		left -= b.count
		rems[i] = rem{i, exact - float64(b.count)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; k < left; k++ {
		bs[rems[k%len(rems)].i].count++
	}
}

// coreInputs are the input files with fixed content: the templates, the
// provisioner entry points.
func (l *layout) coreInputs() map[string][]byte {
	files := map[string][]byte{}
	for _, d := range l.dirs {
		files[path.Join(d.path, d.base+".pkr.hcl")] = templateFile(d)
		files[path.Join(d.path, "variables.pkr.hcl")] = variablesFile(d)
		if d.app {
			continue
		}
		for name, data := range dataFiles(d) {
			files[path.Join(d.path, name)] = data
		}
	}
	if l.stacks["ansible"] {
		files["templates/ansible/playbook.yml"] = []byte(playbook)
		files["templates/ansible/ansible.cfg"] = []byte("[defaults]\nroles_path = ./roles\nhost_key_checking = False\nretry_files_enabled = False\n")
	}
	if l.stacks["puppet"] {
		files["templates/puppet/manifests/site.pp"] = []byte(sitePP)
	}
	return files
}

const playbook = `---
# The default provisioning stack: every role, in order.
- name: Configure the image
  hosts: all
  become: true
  roles:
    - base
    - hardening
    - users
    - ntp
    - logging
    - monitoring
    - updates
    - certs
`

const sitePP = `# The Puppet stack: classify every node with the baseline profile.
node default {
  include profile::baseline
  include profile::accounts
  include profile::firewall
}
`

// otherFiles are the files that are not build inputs: hybrid.hcl, the
// shared var files, each checkout's README, LICENSE and .gitignore.
func (l *layout) otherFiles() map[string][]byte {
	files := l.varFiles()
	for _, d := range l.dirs {
		if !d.app {
			// Read only when an image names it in var_files.
			files[path.Join(d.path, d.base+".pkrvars.hcl.example")] = osVarFile(d)
		}
	}
	for p, data := range l.workspaceFiles() {
		files[p] = data
	}
	for _, s := range l.sources {
		for p, data := range s.repoFiles() {
			files[p] = data
		}
	}
	files["hybrid.hcl"] = l.hybridHCL()
	return files
}

// plan returns every file of the workspace but the lockfile, sorted by
// path: the fixed files, then the filler sized so that the inputs total
// the spec's bytes.
func (l *layout) plan() ([]fileSpec, error) {
	fill := l.spec.Files - len(l.coreInputs())
	if fill < 0 {
		return nil, fmt.Errorf("files is %d, but the %d template directories alone hold %d input files; ask for at least that many", l.spec.Files, len(l.dirs), len(l.coreInputs()))
	}
	bs := l.buckets()
	distribute(fill, bs)
	var filler []fileSpec
	var raw []float64
	for _, b := range bs {
		r := rng(l.spec.Seed, "bucket:"+b.dir)
		list := shapes[b.kind]
		total := 0
		for _, s := range list {
			total += s.weight
		}
		for i := 0; i < b.count; i++ {
			pick := r.IntN(total)
			var s shape
			for _, s = range list {
				if pick < s.weight {
					break
				}
				pick -= s.weight
			}
			median, sigma := 2500.0, 1.0
			if s.binary {
				median, sigma = 40000, 1.3
			}
			raw = append(raw, math.Min(logNormal(r, median, sigma)*s.mul, 64<<20))
			name := words[r.IntN(16)] + "-" + strconv.Itoa(i) + s.ext
			filler = append(filler, fileSpec{path: path.Join(b.dir, s.sub(i/40), name), binary: s.binary})
		}
	}
	// The templates name the subdirectories that received files, so the
	// core files are made once the filler is placed.
	byDir := map[string]*tmplDir{}
	for _, d := range l.dirs {
		byDir[d.path] = d
	}
	for _, f := range filler {
		for dir := path.Dir(f.path); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if d := byDir[dir]; d != nil {
				if d.filled == nil {
					d.filled = map[string]bool{}
				}
				rel := strings.TrimPrefix(f.path, dir+"/")
				first, _, _ := strings.Cut(rel, "/")
				d.filled[first] = true
				break
			}
		}
	}
	core := l.coreInputs()
	var coreBytes int64
	var out []fileSpec
	for p, data := range core {
		coreBytes += int64(len(data))
		out = append(out, fileSpec{path: p, content: data, size: int64(len(data))})
	}
	for p, data := range l.otherFiles() {
		if _, dup := core[p]; dup {
			return nil, fmt.Errorf("internal error: %s generated twice", p)
		}
		out = append(out, fileSpec{path: p, content: data, size: int64(len(data))})
	}
	sizeFiller(filler, raw, l.spec.TotalBytes-coreBytes)
	out = append(out, filler...)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	for i := 1; i < len(out); i++ {
		if out[i].path == out[i-1].path {
			return nil, fmt.Errorf("internal error: %s generated twice", out[i].path)
		}
	}
	return out, nil
}

// sizeFiller scales the raw sizes so that the filler adds up to budget
// (at least one byte per file), giving the rounding remainder to the
// largest file.
func sizeFiller(files []fileSpec, raw []float64, budget int64) {
	if len(files) == 0 {
		return
	}
	var sum float64
	for _, r := range raw {
		sum += r
	}
	scale := float64(budget) / sum
	var total int64
	largest := 0
	for i := range files {
		files[i].size = max(1, int64(math.Round(raw[i]*scale)))
		total += files[i].size
		if files[i].size > files[largest].size {
			largest = i
		}
	}
	if d := budget - total; files[largest].size+d >= 1 {
		files[largest].size += d
	}
}
