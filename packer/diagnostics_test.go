package packer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDiagnostics(t *testing.T) {
	cases := map[string]struct {
		text string
		want []Diagnostic
	}{
		"var file error and a warning": {
			text: `Error: Invalid value for variable

  on /tmp/hybrid-validate-1/0-dev-linux.pkrvars.hcl line 7:
   7: vm_mem = "lots"

The value for vm_mem is not compatible with the variable's type constraint: a
number is required.

Warning: Undefined variable

The variable "nmae" was set but was not declared as an input variable.

variable "nmae" {
  type    = string
  default = null
}


`,
			want: []Diagnostic{
				{Severity: SeverityError, Summary: "Invalid value for variable", File: "/tmp/hybrid-validate-1/0-dev-linux.pkrvars.hcl", Line: 7,
					Detail: "The value for vm_mem is not compatible with the variable's type constraint: a\nnumber is required."},
				{Severity: SeverityWarning, Summary: "Undefined variable",
					Detail: "The variable \"nmae\" was set but was not declared as an input variable.\n\nvariable \"nmae\" {\n  type    = string\n  default = null\n}"},
			},
		},
		"template error without source": {
			text: "Error: Unsupported argument\n\n  on /ws/templates/linux/linux.pkr.hcl line 10:\n  (source code not available)\n\nAn argument named \"bogus\" is not expected here.\n\n\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: "Unsupported argument", File: "/ws/templates/linux/linux.pkr.hcl", Line: 10,
				Detail: `An argument named "bogus" is not expected here.`}},
		},
		"a nested location is more precise": {
			text: "Error: Failed preparing provisioner-block \"shell-local\" \"\"\n\n  on /ws/t/t.pkr.hcl line 14:\n  (source code not available)\n\n/ws/t/t.pkr.hcl:16,5-16: Unsupported argument; An argument named\n\"no_such_opt\" is not expected here.\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: `Failed preparing provisioner-block "shell-local" ""`, File: "/ws/t/t.pkr.hcl", Line: 16, Column: 5, EndColumn: 16,
				Detail: "/ws/t/t.pkr.hcl:16,5-16: Unsupported argument; An argument named\n\"no_such_opt\" is not expected here."}},
		},
		"a nested location wrapped after its colon": {
			text: "Error: Failed preparing provisioner-block \"shell-local\" \"\"\n\n  on /ws/t/t.pkr.hcl line 14:\n  (source code not available)\n\n/ws/t/t.pkr.hcl:16,5-16:\nUnsupported argument; An argument named \"no_such_opt\" is not expected here.\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: `Failed preparing provisioner-block "shell-local" ""`, File: "/ws/t/t.pkr.hcl", Line: 16, Column: 5, EndColumn: 16,
				Detail: "/ws/t/t.pkr.hcl:16,5-16:\nUnsupported argument; An argument named \"no_such_opt\" is not expected here."}},
		},
		"a nested range over lines has no columns": {
			text: "Error: Failed preparing source\n\n  on /ws/t/t.pkr.hcl line 2:\n  (source code not available)\n\n/ws/t/t.pkr.hcl:3,5-4,2: Bad; it is bad.\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: "Failed preparing source", File: "/ws/t/t.pkr.hcl", Line: 3,
				Detail: "/ws/t/t.pkr.hcl:3,5-4,2: Bad; it is bad."}},
		},
		"a location mentioned in the detail does not move it": {
			text: "Error: Invalid value for varfile variable\n\n  on /tmp/v.pkrvars.hcl line 2:\n  (source code not available)\n\nThe vm_mem value must be at least 1024.\n\nThis was checked by the validation rule at /ws/t/t.pkr.hcl:3,3-13.\n\n\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: "Invalid value for varfile variable", File: "/tmp/v.pkrvars.hcl", Line: 2,
				Detail: "The vm_mem value must be at least 1024.\n\nThis was checked by the validation rule at /ws/t/t.pkr.hcl:3,3-13."}},
		},
		"no location": {
			text: "Error: Unset variable \"name\"\n\nA used variable must be set or have a default value; see\nhttps://packer.io/docs/templates/hcl_templates/syntax for details.\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: `Unset variable "name"`,
				Detail: "A used variable must be set or have a default value; see\nhttps://packer.io/docs/templates/hcl_templates/syntax for details."}},
		},
		"text before the first block": {
			text: "The configuration is invalid:\nError: Bad\n",
			want: []Diagnostic{{Severity: SeverityError, Summary: "Bad"}},
		},
		"nothing": {text: "The configuration is valid.\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseDiagnostics(tc.text)); diff != "" {
				t.Errorf("wrong diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// feed is one line of packer output, on stdout or stderr.
type feed struct {
	stderr bool
	line   string
}

func out(line string) feed { return feed{line: line} }
func errLine(line string) feed {
	return feed{stderr: true, line: line}
}

// TestFirstError feeds buildRun the output of failed builds and checks
// the error it keeps: packer's first error, whole, never a fragment of a
// wrapped message or a line of PACKER_LOG's debug log.
func TestFirstError(t *testing.T) {
	cases := map[string]struct {
		lines []feed
		want  string
	}{
		"HCL diagnostic whose detail wraps a list": {
			lines: []feed{
				out(`1795988585,,ui,error,Error: Unknown provisioner type "shel-local"\n\n  on t.pkr.hcl line 6:\n  (source code not available)\n\nknown provisioners: [shell shell-local ansible file sleep windows-restart\nwindows-shell azure-dtlartifact ansible-local breakpoint powershell]\n\n`),
			},
			want: "Unknown provisioner type \"shel-local\"\n\n  on t.pkr.hcl line 6:\n  (source code not available)\n\nknown provisioners: [shell shell-local ansible file sleep windows-restart\nwindows-shell azure-dtlartifact ansible-local breakpoint powershell]",
		},
		"the build's error record": {
			lines: []feed{
				out(`1795988579,,ui,say,==> null.linux-a: Running local shell script: /tmp/packer-shell4278033295`),
				out(`1795988579,,ui,error,==> null.linux-a: the package mirror is down`),
				out(`1795988579,,ui,error,Build 'null.linux-a' errored after 16 milliseconds 377 microseconds: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]`),
				out(`1795988579,,error-count,1`),
				out(`1795988579,,ui,error,\n==> Some builds didn't complete successfully and had errors:`),
				out(`1795988579,null.linux-a,error,Script exited with non-zero exit status: 1. Allowed exit codes are: [0]`),
				out(`1795988579,,ui,error,--> null.linux-a: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]`),
			},
			want: "Script exited with non-zero exit status: 1. Allowed exit codes are: [0]",
		},
		"an error record with an escaped comma": {
			lines: []feed{out(`1795988579,vsphere-iso.linux,error,error creating vm: folder "a%!(PACKER_COMMA) b" not found`)},
			want:  `error creating vm: folder "a, b" not found`,
		},
		"an Error: block on stderr, until the next block": {
			lines: []feed{
				errLine("Error: Failed to initialize build \"vsphere-iso.linux\""),
				errLine(""),
				errLine("error initializing builder 'vsphere-iso': Unknown builder vsphere-iso"),
				errLine(""),
				errLine("Warning: something else"),
				out(`1795988579,,error-count,1`),
			},
			want: "Failed to initialize build \"vsphere-iso.linux\"\n\nerror initializing builder 'vsphere-iso': Unknown builder vsphere-iso",
		},
		"the first of two": {
			lines: []feed{
				errLine("Error: the first"),
				out(`1795988579,null.linux-a,error,the second`),
			},
			want: "the first",
		},
		"no error record: the first line of error output, not PACKER_LOG's": {
			lines: []feed{
				errLine("2026/11/29 19:04:05 [INFO] Packer version: 1.9.4"),
				errLine("panic: runtime error: invalid memory address"),
				errLine("goroutine 1 [running]:"),
			},
			want: "panic: runtime error: invalid memory address",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &buildRun{redact: func(s string) string { return s }}
			for _, f := range tc.lines {
				if f.stderr {
					r.stderrLine(f.line)
				} else {
					r.stdoutLine(f.line)
				}
			}
			if got := r.firstError(); got != tc.want {
				t.Errorf("firstError =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestHumanLog checks that the log a person reads is what packer prints on
// a terminal, while the machine log keeps every record as written.
func TestHumanLog(t *testing.T) {
	lines := []string{
		`1795988579,,ui,say,==> null.linux-a: Running local shell script: /tmp/packer-shell1`,
		`1795988579,,ui,message,    null.linux-a: hello%!(PACKER_COMMA) world`,
		`1795988579,,ui,say,\n==> Wait completed after 16 milliseconds`,
		`1795988579,null.linux-a,artifact-count,1`,
		`1795988579,null.linux-a,artifact,0,id,Null`,
		`not machine-readable`,
	}
	var human, machine bytes.Buffer
	r := &buildRun{log: &human, machineLog: &machine, redact: func(s string) string { return s }}
	for _, l := range lines {
		r.stdoutLine(l)
	}
	r.stderrLine("2026/11/29 19:04:05 [INFO] Packer version: 1.9.4")
	want := "==> null.linux-a: Running local shell script: /tmp/packer-shell1\n" +
		"    null.linux-a: hello, world\n" +
		"\n==> Wait completed after 16 milliseconds\n" +
		"not machine-readable\n" +
		"2026/11/29 19:04:05 [INFO] Packer version: 1.9.4\n"
	if diff := cmp.Diff(want, human.String()); diff != "" {
		t.Errorf("wrong log (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(strings.Join(lines, "\n")+"\n2026/11/29 19:04:05 [INFO] Packer version: 1.9.4\n", machine.String()); diff != "" {
		t.Errorf("wrong machine log (-want +got):\n%s", diff)
	}
}
