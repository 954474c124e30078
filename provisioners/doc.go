// Package provisioners owns hybrid's provisioning stacks, Ansible (the
// default) and Puppet: which stack an image uses in an environment, the
// packer variables that switch each stack on or off in a template, and the
// assets a stack needs.
//
// It reads the workspace to check that assets exist, and writes nothing.
package provisioners
