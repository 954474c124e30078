# Configures a new Windows virtual machine before it becomes a template. The
# Windows template applies it in the guest when hybrid turns the Puppet stack on.
node default {
  if $facts['os']['family'] == 'windows' {
    service { 'W32Time':
      ensure => running,
      enable => true,
    }

    registry_value { 'HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\fDenyTSConnections':
      ensure => present,
      type   => dword,
      data   => 0,
    }
  }
}
