variable "name" {
  description = "Identifier of the database instance and prefix of its resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC the database lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the database subnet group (at least two zones)."
  type        = list(string)
}

variable "allowed_security_groups" {
  description = "Security groups allowed to connect on 5432 (the cluster nodes)."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL major.minor version."
  type        = string
  default     = "15.8"

  validation {
    condition     = startswith(var.engine_version, "15")
    error_message = "CODE is tested against PostgreSQL 15."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "database_name" {
  description = "Name of the database CODE uses."
  type        = string
  default     = "code"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "multi_az" {
  description = "Keep a synchronous standby in another zone."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated snapshots and point-in-time recovery (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion and take a final snapshot on destroy."
  type        = bool
  default     = true
}
