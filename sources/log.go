package sources

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/hybridcore/hybrid/logs"
)

// masked stands for a credential in a logged git command line.
const masked = "(sensitive)"

// logCommand logs, at debug level, a git command about to run: the binary,
// its arguments with credentials masked (maskCredentials) and its
// directory. The -c options hybrid gives every command (globalArgs) and
// the environment are left out.
func logCommand(bin, dir string, argv []string) {
	argv = argv[len(globalArgs):]
	attrs := []any{"command", maskCredentials(bin + " " + strings.Join(argv, " "))}
	if dir != "" {
		attrs = append(attrs, "dir", dir)
	}
	slog.Debug("running git", attrs...)
}

// logDone logs, at trace level, how a git command ended and how long it
// took.
func logDone(args []string, start time.Time, err error) {
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	attrs := []any{"command", "git " + name, "duration", time.Since(start).Round(time.Microsecond)}
	if err != nil {
		attrs = append(attrs, "error", maskCredentials(err.Error()))
	}
	slog.Log(context.Background(), logs.LevelTrace, "git finished", attrs...)
}

// urlUserInfo is the scheme and user information of a URL:
// "https://user:password@", "ssh://git@".
var urlUserInfo = regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s/?#@'"]+)@`)

// maskCredentials masks the credentials of every URL in s, for logs and
// error messages: a password
// ("https://user:(sensitive)@host/repo"), and, for a URL other than ssh, a
// user name without password, which is then a token
// ("https://(sensitive)@host/repo"). An ssh user name (ssh://git@host) is
// an account, not a secret, and is kept.
func maskCredentials(s string) string {
	return urlUserInfo.ReplaceAllStringFunc(s, func(m string) string {
		sm := urlUserInfo.FindStringSubmatch(m)
		scheme, info := sm[1], sm[2]
		switch user, _, hasPassword := strings.Cut(info, ":"); {
		case hasPassword:
			info = user + ":" + masked
		case strings.Contains(strings.ToLower(scheme), "ssh"):
		default:
			info = masked
		}
		return scheme + "://" + info + "@"
	})
}
