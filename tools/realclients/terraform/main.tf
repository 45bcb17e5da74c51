# The Terraform provider against a profiled server (docs/real-clients.md); check.sh runs it.
terraform {
  required_providers {
    linode = { source = "linode/linode" }
  }
}
variable "url" { type = string }
# check.sh changes these for its update.
variable "key_label" { default = "tf-laptop" }
variable "token_label" { default = "tf-ci" }
variable "add_domains" { default = false }
variable "network_helper" { default = false }
variable "token" {
  type      = string
  sensitive = true
}
provider "linode" {
  url         = var.url
  api_version = "v4"
  token       = var.token
}
data "linode_profile" "me" {}
resource "linode_sshkey" "laptop" {
  label   = var.key_label
  ssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDjUxRqyN1eQ3XRXGcTrjqb1mzV5DvWDpwGBkp1Tj8ni tf@laptop"
}
data "linode_sshkey" "byLabel" {
  label      = linode_sshkey.laptop.label
  depends_on = [linode_sshkey.laptop]
}
data "linode_sshkeys" "filtered" {
  filter {
    name   = "label"
    values = [linode_sshkey.laptop.label]
  }
  depends_on = [linode_sshkey.laptop]
}
resource "linode_token" "ci" {
  label  = var.token_label
  scopes = "linodes:read_only domains:read_write"
  expiry = "2030-01-02T03:04:05Z"
}
resource "linode_user" "dev" {
  username   = "tf-dev"
  email      = "tf-dev@example.com"
  restricted = true
  global_grants {
    add_linodes    = true
    add_domains    = var.add_domains
    account_access = "read_only"
  }
  linode_grant {
    id          = 123
    permissions = "read_write"
  }
}
data "linode_user" "dev" {
  username   = linode_user.dev.username
  depends_on = [linode_user.dev]
}
data "linode_users" "restricted" {
  filter {
    name   = "restricted"
    values = ["true"]
  }
  depends_on = [linode_user.dev]
}
data "linode_account" "acct" {}
resource "linode_account_settings" "s" {
  network_helper = var.network_helper
}
data "linode_account_logins" "all" {}
output "profile" { value = [data.linode_profile.me.username, data.linode_profile.me.email] }
output "key" { value = [data.linode_sshkey.byLabel.id, length(data.linode_sshkeys.filtered.sshkeys)] }
output "token" {
  value     = linode_token.ci.token
  sensitive = true
}
output "user" { value = [data.linode_user.dev.restricted, length(data.linode_users.restricted.users), data.linode_user.dev.global_grants] }
output "acct" { value = [data.linode_account.acct.euuid, linode_account_settings.s.network_helper] }
