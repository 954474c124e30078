package sources

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name string
		ok   bool
	}{
		"simple":            {"examples", true},
		"digits and marks":  {"packer-plugin_vsphere.v2", true},
		"digit first":       {"1password", true},
		"single char":       {"a", true},
		"empty":             {"", false},
		"dot dot":           {"..", false},
		"parent":            {"../x", false},
		"slash":             {"a/b", false},
		"backslash":         {`a\b`, false},
		"dot git":           {".git", false},
		"dot":               {".", false},
		"leading dash":      {"-x", false},
		"leading dot":       {".hidden", false},
		"leading underline": {"_x", false},
		"upper case":        {"Examples", false},
		"inner dot dot":     {"a..b", false},
		"trailing dot":      {"a.", false},
		"space":             {"a b", false},
		"nul":               {"a\x00", false},
		"unicode":           {"café", false},
		"too long":          {strings.Repeat("a", maxNameLen+1), false},
		"longest":           {strings.Repeat("a", maxNameLen), true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidateName(tc.name)
			checkValid(t, tc.name, err, tc.ok)
		})
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		url  string
		ok   bool
		want string // part of the error message
	}{
		"https":                 {url: "https://github.com/vmware-samples/packer-examples-for-vsphere.git", ok: true},
		"http with port":        {url: "http://git.example.com:8080/r.git", ok: true},
		"ssh":                   {url: "ssh://git@github.com/org/repo.git", ok: true},
		"ssh ipv6":              {url: "ssh://git@[::1]:2222/repo.git", ok: true},
		"git":                   {url: "git://example.com/repo.git", ok: true},
		"git+ssh":               {url: "git+ssh://example.com/repo.git", ok: true},
		"file":                  {url: "file:///srv/git/repo.git", ok: true},
		"scp-like":              {url: "git@github.com:org/repo.git", ok: true},
		"scp-like no user":      {url: "example.com:repo.git", ok: true},
		"scp-like ipv6":         {url: "git@[::1]:repo.git", ok: true},
		"absolute path":         {url: "/srv/git/repo.git", ok: true},
		"relative path":         {url: "../repos/upstream.git", ok: true},
		"bare relative":         {url: "upstream.git", ok: true},
		"path with colon later": {url: "./a:b", ok: true},
		"path with space":       {url: "/srv/my repos/r.git", ok: true},
		"windows drive":         {url: `C:\repos\r.git`, ok: true},
		"empty":                 {url: "", want: "empty"},
		"upload-pack option":    {url: "--upload-pack=touch x", want: "starts with '-'"},
		"dash":                  {url: "-", want: "starts with '-'"},
		"ext":                   {url: "ext::sh -c touch% x", want: "remote-helper"},
		"ext upper":             {url: "EXT::sh -c id", want: "remote-helper"},
		"fd":                    {url: "fd::3", want: "remote-helper"},
		"helper with scheme":    {url: "codecommit::us-east-1://repo", want: "remote-helper"},
		"empty helper":          {url: "::x", want: "remote-helper"},
		"helper scheme":         {url: "codecommit://repo", want: "transport"},
		"ftp":                   {url: "ftp://example.com/r.git", want: "transport"},
		"ssh host option":       {url: "ssh://-oProxyCommand=touch%20x/r", want: "starting with '-'"},
		"ssh user option":       {url: "ssh://-oProxyCommand=x@host/r", want: "starting with '-'"},
		"ssh port option":       {url: "ssh://host:-oProxyCommand=x/r", want: "port"},
		"ssh bracket option":    {url: "ssh://[-oProxyCommand=x]/r", want: "starting with '-'"},
		"ssh no host":           {url: "ssh:///r.git", want: "no host"},
		"ssh path option":       {url: "ssh://host/-x", want: "path starting with '-'"},
		"scp host option":       {url: "git@-oProxyCommand=x:r.git", want: "starting with '-'"},
		"scp bracket option":    {url: "[-oProxyCommand=x]:r.git", want: "starting with '-'"},
		"scp path option":       {url: "host:--upload-pack=x", want: "path starting with '-'"},
		"scp empty host":        {url: "@:r.git", want: "empty host"},
		"newline":               {url: "https://example.com/r.git\n--upload-pack=x", want: "control character"},
		"tab":                   {url: "/srv/r\t.git", want: "control character"},
		"del":                   {url: "/srv/r\x7f.git", want: "control character"},
		"c1 control":            {url: "/srv/r\u0085.git", want: "control character"},
		"bad utf8":              {url: "/srv/\xff.git", want: "UTF-8"},
		"too long":              {url: "/" + strings.Repeat("a", maxURLLen), want: "longer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidateURL(tc.url)
			checkValid(t, tc.url, err, tc.ok)
			if err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ValidateURL(%q) = %q, want it to mention %q", tc.url, err, tc.want)
			}
		})
	}
}

func TestValidateRef(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		ref string
		ok  bool
	}{
		"branch":            {"main", true},
		"nested branch":     {"release/1.x", true},
		"tag":               {"v1.0.0", true},
		"full head":         {"refs/heads/main", true},
		"full tag":          {"refs/tags/v1.0", true},
		"sha1":              {strings.Repeat("a1", 20), true},
		"sha1 upper":        {strings.Repeat("A1", 20), true},
		"sha256":            {strings.Repeat("0f", 32), true},
		"abbreviated hash":  {"1a2b3c4", true},
		"at sign inside":    {"a@b", true},
		"empty":             {"", false},
		"output option":     {"--output=x", false},
		"dash":              {"-main", false},
		"dot dot":           {"main..dev", false},
		"range":             {"a...b", false},
		"space":             {"my branch", false},
		"tilde":             {"main~1", false},
		"caret":             {"v1^{}", false},
		"colon":             {"a:b", false},
		"question":          {"a?", false},
		"star":              {"rel/*", false},
		"bracket":           {"a[1]", false},
		"backslash":         {`a\b`, false},
		"control":           {"a\x01b", false},
		"del":               {"a\x7fb", false},
		"newline":           {"main\n", false},
		"reflog":            {"main@{1}", false},
		"at":                {"@", false},
		"leading slash":     {"/main", false},
		"trailing slash":    {"main/", false},
		"double slash":      {"a//b", false},
		"trailing dot":      {"main.", false},
		"dot component":     {"a/.b", false},
		"leading dot":       {".main", false},
		"lock suffix":       {"main.lock", false},
		"lock component":    {"a.lock/b", false},
		"other namespace":   {"refs/pull/1/head", false},
		"empty heads":       {"refs/heads/", false},
		"remote refs":       {"refs/remotes/origin/main", false},
		"bad utf8":          {"a\xff", false},
		"too long":          {strings.Repeat("a", maxRefLen+1), false},
		"hash of 41 digits": {strings.Repeat("a", 41), true}, // a valid branch name, not a commit
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			checkValid(t, tc.ref, ValidateRef(tc.ref), tc.ok)
		})
	}
}

func TestIsFullCommit(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		strings.Repeat("0", 40):        true,
		strings.Repeat("F", 64):        true,
		strings.Repeat("0", 39):        false,
		strings.Repeat("0", 41):        false,
		strings.Repeat("g", 40):        false,
		"":                             false,
		strings.Repeat("0", 39) + "-":  false,
		"-" + strings.Repeat("0", 39):  false,
		strings.Repeat("ab", 20) + " ": false,
	}
	for s, want := range tests {
		if got := IsFullCommit(s); got != want {
			t.Errorf("IsFullCommit(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestClassifyURL(t *testing.T) {
	t.Parallel()
	tests := map[string]urlKind{
		"https://h/r":         urlScheme,
		"host:r":              urlSCP,
		"user@host:r":         urlSCP,
		"git@[::1]:r":         urlSCP,
		"/abs/r":              urlLocal,
		"rel/r:x":             urlLocal,
		"r":                   urlLocal,
		`C:\r`:                urlLocal,
		"C:/r":                urlLocal,
		"weird scheme!://x:y": urlSCP,
	}
	for url, want := range tests {
		if got, _ := classifyURL(url); got != want {
			t.Errorf("classifyURL(%q) = %v, want %v", url, got, want)
		}
	}
}

func TestAbsURL(t *testing.T) {
	t.Parallel()
	got, err := absURL("repos/r.git")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(got) || !strings.HasSuffix(got, filepath.Join("repos", "r.git")) {
		t.Errorf("absURL(repos/r.git) = %q, want an absolute path ending in repos/r.git", got)
	}
	for _, u := range []string{"https://h/r.git", "git@h:r.git", "file:///r.git"} {
		if got, err := absURL(u); err != nil || got != u {
			t.Errorf("absURL(%q) = %q, %v; want it unchanged", u, got, err)
		}
	}
}

// checkValid checks that err is nil when ok, and wraps ErrInvalid otherwise.
func checkValid(t *testing.T, input string, err error, ok bool) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Errorf("%q rejected: %v", input, err)
	case !ok && err == nil:
		t.Errorf("%q accepted, want an error", input)
	case !ok && !errors.Is(err, ErrInvalid):
		t.Errorf("%q: error %v does not wrap ErrInvalid", input, err)
	case err != nil && strings.ContainsRune(err.Error(), '\n'):
		t.Errorf("%q: error %q spans lines; want one line", input, err)
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"examples", "../x", "a/b", ".git", "", "a..b", "-x", "a.", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		root := filepath.Join("work", "sources")
		dir := filepath.Join(root, name)
		if strings.HasPrefix(name, "-") || strings.HasPrefix(name, ".") ||
			!filepath.IsLocal(name) || filepath.Dir(dir) != root || filepath.Base(dir) != name {
			t.Fatalf("accepted %q, which does not name one directory inside %s", name, root)
		}
	})
}

func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/o/r.git", "git@github.com:o/r.git", "/srv/r.git", "r.git",
		"--upload-pack=touch x", "ext::sh -c touch% x", "fd::3", "ssh://-oProxyCommand=x/r",
		"ssh://h:-1/r", "host:-x", "file:///r", "a@[::1]:r", "[-x]:r", "C:\\r", "x\x00y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		if ValidateURL(url) != nil {
			return
		}
		if strings.HasPrefix(url, "-") {
			t.Fatalf("accepted %q, which starts with '-'", url)
		}
		if strings.IndexFunc(url, isControl) >= 0 || !utf8.ValidString(url) {
			t.Fatalf("accepted %q, which has a control character or bad UTF-8", url)
		}
		if _, ok := helperTransport(url); ok {
			t.Fatalf("accepted %q, which uses the remote-helper syntax", url)
		}
		if k, scheme := classifyURL(url); k == urlScheme && !allowedSchemes[strings.ToLower(scheme)] {
			t.Fatalf("accepted %q with the transport %q", url, scheme)
		}
		if _, err := absURL(url); err != nil {
			t.Fatalf("absURL(%q): %v", url, err)
		}
	})
}

func FuzzValidateRef(f *testing.F) {
	for _, s := range []string{
		"main", "refs/heads/main", "refs/tags/v1", "v1.0", strings.Repeat("ab", 20),
		"--output=x", "a..b", "a b", "a~1", "a^{}", "@", "a@{1}", "/a", "a.lock", "refs/pull/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if ValidateRef(ref) != nil {
			return
		}
		if strings.HasPrefix(ref, "-") {
			t.Fatalf("accepted %q, which starts with '-'", ref)
		}
		if IsFullCommit(ref) {
			return
		}
		if strings.Contains(ref, "..") || strings.ContainsAny(ref, " ~^:?*[\\\x00\x7f") ||
			strings.Contains(ref, "@{") || strings.IndexFunc(ref, func(r rune) bool { return r < 0x20 }) >= 0 {
			t.Fatalf("accepted %q, which git check-ref-format rejects", ref)
		}
	})
}
