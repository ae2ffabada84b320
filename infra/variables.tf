variable "environment" {
  description = "Environment name; must equal the selected workspace (dev, staging or prod)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"
}

variable "vpc_cidr" {
  description = "CIDR block of the environment's VPC."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones used for subnets, the cluster and the database."
  type        = list(string)
}

variable "cluster_version" {
  description = "Kubernetes version of the EKS cluster."
  type        = string
  default     = "1.30"
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group."
  type        = list(string)
  default     = ["t3.medium"]
}

variable "node_count" {
  description = "Minimum, desired and maximum number of worker nodes."
  type = object({
    min     = number
    desired = number
    max     = number
  })
}

variable "use_spot" {
  description = "Run worker nodes on spot capacity (cheaper, interruptible)."
  type        = bool
  default     = false
}

variable "db_instance_class" {
  description = "RDS instance class of the CODE PostgreSQL database."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database in GiB (autoscaling up to 4x)."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "Keep a synchronous standby in a second availability zone."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS snapshots and point-in-time recovery."
  type        = number
  default     = 7
}

variable "backup_retention_days" {
  description = "Days CODE's own backups (codectl dr backup) are kept in the backup bucket."
  type        = number
  default     = 35
}
