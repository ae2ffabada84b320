variable "name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "retention_days" {
  description = "Days a backup is kept before it expires."
  type        = number

  validation {
    condition     = var.retention_days >= 7
    error_message = "Keep backups at least 7 days (monthly restore drills need a week of history)."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it (dev only)."
  type        = bool
  default     = false
}
