variable "name" {
  description = "Name prefix of every network resource."
  type        = string
}

variable "cidr_block" {
  description = "CIDR block of the VPC (a /16 leaves room for /24 public and /20 private subnets)."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be a valid IPv4 CIDR block."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets over (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "At least two availability zones are required."
  }
}

variable "single_nat_gateway" {
  description = "Share one NAT gateway between all zones (cheaper, not zone-redundant)."
  type        = bool
  default     = false
}

variable "flow_log_destination_arn" {
  description = "S3 bucket ARN for rejected-traffic flow logs; null disables them."
  type        = string
  default     = null
}
