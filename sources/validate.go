package sources

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error of ValidateName, ValidateURL and
// ValidateRef, so a caller can tell bad input (fix hybrid.hcl or the lockfile)
// from a failing git command.
var ErrInvalid = errors.New("invalid source setting")

// maxNameLen, maxURLLen and maxRefLen bound what hybrid accepts; real names,
// URLs and refs are far shorter.
const (
	maxNameLen = 100
	maxURLLen  = 2048
	maxRefLen  = 255
)

// invalidf returns an error wrapping ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ValidateName checks that name can be a source name, which becomes the
// directory sources/<name>. A name is lower-case letters, digits, '.', '_' and
// '-', starts with a letter or digit, has no "..", does not end with '.', and
// is at most 100 bytes. Lower case only, so two sources can never share a
// directory on a case-insensitive file system.
func ValidateName(name string) error {
	const hint = "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"
	switch {
	case name == "":
		return invalidf("source name is empty; %s", hint)
	case len(name) > maxNameLen:
		return invalidf("source name %.20q... is longer than %d bytes; choose a shorter name", name, maxNameLen)
	case !isLowerAlnum(name[0]):
		return invalidf("source name %q must start with a lower-case letter or a digit; %s", name, hint)
	case strings.Contains(name, ".."):
		return invalidf("source name %q contains \"..\"; %s", name, hint)
	case strings.HasSuffix(name, "."):
		return invalidf("source name %q ends with '.'; %s", name, hint)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '.' && c != '_' && c != '-' {
			return invalidf("source name %q contains %q; %s", name, rune(c), hint)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// urlKind is how git reads a repository URL.
type urlKind int

const (
	urlScheme urlKind = iota // scheme://...
	urlSCP                   // [user@]host:path
	urlLocal                 // a local path
)

// allowedSchemes are the transports git implements itself. Any other
// "scheme://" makes git run a remote helper program git-remote-<scheme>.
var allowedSchemes = map[string]bool{
	"https": true, "http": true, "ssh": true, "git": true, "file": true,
	"git+ssh": true, "ssh+git": true,
}

// ValidateURL checks that url is a git repository URL hybrid may hand to git:
// https://, http://, ssh://, git://, file://, scp-like [user@]host:path, or a
// local path (absolute or relative). It rejects anything git could read as an
// option (a leading '-', also in the host, user or path of ssh URLs), the
// remote-helper syntax <transport>::<address> (ext:: runs a shell command,
// fd:: uses file descriptors), other schemes (they run git-remote-<scheme>),
// control characters and invalid UTF-8.
func ValidateURL(url string) error {
	const hint = "use https://, ssh://, git://, file://, user@host:path or a local path"
	switch {
	case url == "":
		return invalidf("source URL is empty; %s", hint)
	case len(url) > maxURLLen:
		return invalidf("source URL %.40q... is longer than %d bytes", url, maxURLLen)
	case !utf8.ValidString(url):
		return invalidf("source URL %q is not valid UTF-8", url)
	case url[0] == '-':
		return invalidf("source URL %q starts with '-', which git would read as an option; %s", url, hint)
	}
	if i := strings.IndexFunc(url, isControl); i >= 0 {
		return invalidf("source URL %q contains the control character %U; %s", url, url[i], hint)
	}
	if t, ok := helperTransport(url); ok {
		return invalidf("source URL %q uses the remote-helper syntax %q, which can run programs; %s", url, t+"::", hint)
	}
	kind, scheme := classifyURL(url)
	switch kind {
	case urlScheme:
		if !allowedSchemes[strings.ToLower(scheme)] {
			return invalidf("source URL %q uses the transport %q, which git hands to a helper program; %s", url, scheme, hint)
		}
		rest := url[len(scheme)+len("://"):]
		authority, path, _ := strings.Cut(rest, "/")
		user, host := "", authority
		if i := strings.LastIndexByte(authority, '@'); i >= 0 {
			user, host = authority[:i], authority[i+1:]
		}
		host, port := splitHostPort(host)
		switch {
		case strings.HasPrefix(user, "-") || strings.HasPrefix(host, "-"):
			return invalidf("source URL %q has a user or host starting with '-', which ssh would read as an option", url)
		case !allDigits(port):
			return invalidf("source URL %q has the port %q; a port is digits only", url, port)
		case host == "" && !strings.EqualFold(scheme, "file"):
			return invalidf("source URL %q has no host", url)
		case strings.HasPrefix(path, "-"):
			return invalidf("source URL %q has a path starting with '-'", url)
		}
	case urlSCP:
		userhost, path := scpParts(url)
		host := userhost
		if i := strings.LastIndexByte(userhost, '@'); i >= 0 {
			host = userhost[i+1:]
		}
		switch {
		case host == "" || strings.HasPrefix(strings.TrimPrefix(host, "["), "-"):
			return invalidf("source URL %q has an empty host or one starting with '-'; write [user@]host:path", url)
		case strings.HasPrefix(path, "-"):
			return invalidf("source URL %q has a path starting with '-', which the server would read as an option", url)
		}
	}
	return nil
}

// helperTransport reports whether git would read url as <transport>::<address>
// and run the remote helper git-remote-<transport>. It follows git's own test
// (transport.c): a run of URL-scheme characters, possibly empty, then "::".
func helperTransport(url string) (string, bool) {
	i := 0
	for i < len(url) && isSchemeChar(url[i], i == 0) {
		i++
	}
	return url[:i], strings.HasPrefix(url[i:], "::")
}

func isSchemeChar(c byte, first bool) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return !first && (c == '+' || c == '-' || c == '.')
}

// classifyURL tells how git reads url (connect.c: url_is_local_not_ssh and
// parse_connect_url): "scheme://" is a URL; a ':' before any '/' makes an
// scp-like address (brackets may hide colons of an IPv6 host); anything else,
// or a Windows drive letter, is a local path.
func classifyURL(url string) (urlKind, string) {
	if i := strings.Index(url, "://"); i > 0 {
		scheme := url[:i]
		ok := true
		for j := 0; j < len(scheme); j++ {
			if !isSchemeChar(scheme[j], j == 0) {
				ok = false
				break
			}
		}
		if ok {
			return urlScheme, scheme
		}
	}
	if len(url) >= 2 && url[1] == ':' && isASCIILetter(url[0]) && (len(url) == 2 || url[2] == '/' || url[2] == '\\') {
		return urlLocal, ""
	}
	colon := strings.IndexByte(url, ':')
	slash := strings.IndexByte(url, '/')
	if colon >= 0 && (slash < 0 || colon < slash) {
		return urlSCP, ""
	}
	return urlLocal, ""
}

// scpParts splits an scp-like address into [user@]host and path. A host in
// brackets may hold colons ([user@][::1]:path).
func scpParts(url string) (string, string) {
	from := 0
	if open := strings.IndexByte(url, '['); open >= 0 && open < strings.IndexByte(url, ':') {
		if end := strings.IndexByte(url[open:], ']'); end >= 0 {
			from = open + end
		}
	}
	c := strings.IndexByte(url[from:], ':')
	if c < 0 {
		return url, ""
	}
	return url[:from+c], url[from+c+1:]
}

// splitHostPort splits host[:port] or [v6]:port.
func splitHostPort(hostport string) (string, string) {
	if strings.HasPrefix(hostport, "[") {
		if end := strings.IndexByte(hostport, ']'); end >= 0 {
			host, rest := hostport[1:end], hostport[end+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
		return hostport, ""
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		return hostport[:i], hostport[i+1:]
	}
	return hostport, ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f }

// isLocalURL reports whether git reads url as a path on this machine (not a
// file:// URL).
func isLocalURL(url string) bool {
	k, _ := classifyURL(url)
	return k == urlLocal
}

// absURL makes a local-path URL absolute against the current directory, so
// it means the same repository whatever directory git runs in. Other URLs are
// returned unchanged.
func absURL(url string) (string, error) {
	if !isLocalURL(url) {
		return url, nil
	}
	abs, err := filepath.Abs(url)
	if err != nil {
		return "", fmt.Errorf("source URL %q: %w", url, err)
	}
	return abs, nil
}

// IsFullCommit reports whether s is a full commit hash: 40 hexadecimal digits
// (SHA-1) or 64 (SHA-256), in either case.
func IsFullCommit(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return isHex(s)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// ValidateRef checks that ref can be a source's ref: a full commit hash, or a
// branch or tag name following git check-ref-format (no "..", no control
// characters, space, ~ ^ : ? * [ \, no "@{", no component starting with '.' or
// ending with ".lock", no leading, trailing or doubled '/', no trailing '.'),
// which also never starts with '-'. A full name must be under refs/heads/ or
// refs/tags/. An abbreviated commit passes here, as it is also a valid branch
// name; Resolve reports it is not found.
func ValidateRef(ref string) error {
	const hint = "give a branch, a tag or a full 40-character commit"
	switch {
	case ref == "":
		return invalidf("source ref is empty; %s", hint)
	case len(ref) > maxRefLen:
		return invalidf("source ref %.40q... is longer than %d bytes", ref, maxRefLen)
	case ref[0] == '-':
		return invalidf("source ref %q starts with '-', which git would read as an option; %s", ref, hint)
	case IsFullCommit(ref):
		return nil
	case !utf8.ValidString(ref):
		return invalidf("source ref %q is not valid UTF-8", ref)
	case ref == "@":
		return invalidf("source ref %q is not a branch or tag name; %s", ref, hint)
	case strings.Contains(ref, ".."):
		return invalidf("source ref %q contains \"..\"; %s", ref, hint)
	case strings.Contains(ref, "@{"):
		return invalidf("source ref %q contains \"@{\"; %s", ref, hint)
	case strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//"):
		return invalidf("source ref %q has a leading, trailing or doubled '/'; %s", ref, hint)
	case strings.HasSuffix(ref, "."):
		return invalidf("source ref %q ends with '.'; %s", ref, hint)
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return invalidf("source ref %q contains %q, which git does not allow in a ref name; %s", ref, r, hint)
		}
	}
	for _, comp := range strings.Split(ref, "/") {
		if strings.HasPrefix(comp, ".") || strings.HasSuffix(comp, ".lock") {
			return invalidf("source ref %q has a part starting with '.' or ending with \".lock\"; %s", ref, hint)
		}
	}
	if strings.HasPrefix(ref, "refs/") {
		rest, ok := strings.CutPrefix(ref, "refs/heads/")
		if !ok {
			rest, ok = strings.CutPrefix(ref, "refs/tags/")
		}
		if !ok || rest == "" {
			return invalidf("source ref %q is not under refs/heads/ or refs/tags/; %s", ref, hint)
		}
	}
	return nil
}
