# Baseline for every Puppet image. The quickstart templates do not run
# puppet apply: a shell-local stand-in records this file's checksum in the
# artifact, so editing it changes what hybrid builds.
node default {
  $timezone = lookup('build_timezone', String, 'first', 'UTC')

  file { 'C:/ProgramData/hybrid/baseline.txt':
    ensure  => file,
    content => "timezone=${timezone}\n",
  }
}
