package wsgen

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// hexDigest is a deterministic 64-hex-digit string for fake commits,
// checksums and plugin hashes.
func hexDigest(seed uint64, kind, name string) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	s := sha256.New()
	s.Write(b[:])
	s.Write([]byte(kind + "\x00" + name))
	return hex.EncodeToString(s.Sum(nil))
}

// rng returns a generator that depends only on the seed and a name, so
// files can be generated in any order, in parallel, with the same bytes.
func rng(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// words make filler text look like configuration and scripts.
var words = []string{
	"install", "package", "service", "enable", "config", "template", "user", "group", "file",
	"mode", "owner", "path", "state", "present", "absent", "restart", "handler", "notify",
	"when", "register", "become", "true", "false", "name", "src", "dest", "content", "line",
	"regexp", "backup", "set", "get", "if", "then", "else", "fi", "for", "do", "done", "echo",
	"export", "local", "return", "function", "param", "Write-Host", "Set-ItemProperty",
	"Get-Service", "New-Item", "-Path", "-Name", "-Value", "$env:TEMP", "/etc", "/usr/local",
	"/var/log", "sysctl", "kernel", "net.ipv4", "firewall", "selinux", "ssh", "sshd_config",
	"PermitRootLogin", "no", "yes", "0644", "0755", "root", "wheel", "systemd", "unit",
	"timer", "journal", "rotate", "cron", "daily", "weekly", "repo", "gpgkey", "baseurl",
	"mirror", "update", "upgrade", "cleanup", "cache", "tmp", "registry", "HKLM:\\SOFTWARE",
	"driver", "inf", "device", "class", "vendor", "version", "{", "}", "[", "]", "=", ":",
	"-", "#", "=>", "ensure", "require", "subscribe", "class", "define", "include", "node",
}

// fillText fills buf with lines of words and ends it with a newline.
func fillText(r *rand.Rand, buf []byte) {
	i := 0
	for i < len(buf) {
		n := 3 + r.IntN(10)
		indent := 2 * r.IntN(4)
		for k := 0; k < indent && i < len(buf); k++ {
			buf[i] = ' '
			i++
		}
		for w := 0; w < n && i < len(buf); w++ {
			if w > 0 {
				buf[i] = ' '
				i++
			}
			i += copy(buf[i:], words[r.IntN(len(words))])
		}
		if i < len(buf) {
			buf[i] = '\n'
			i++
		}
	}
	if len(buf) > 0 {
		buf[len(buf)-1] = '\n'
	}
}

// fillBinary fills buf with random bytes, as compressed archives and
// driver binaries look.
func fillBinary(r *rand.Rand, buf []byte) {
	i := 0
	for ; i+8 <= len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], r.Uint64())
	}
	for ; i < len(buf); i++ {
		buf[i] = byte(r.Uint32())
	}
}

// logNormal draws a size whose logarithm is normal: most files small, a
// few large, as in real repositories.
func logNormal(r *rand.Rand, median float64, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}
