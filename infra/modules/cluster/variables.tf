variable "name" {
  description = "Cluster name."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. 1.30."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes."
  type        = list(string)
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API endpoint publicly (CI runners outside the VPC)."
  type        = bool
  default     = true
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the public API endpoint (the CI runners' egress)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
}

variable "node_count" {
  description = "Minimum, desired and maximum node count."
  type = object({
    min     = number
    desired = number
    max     = number
  })

  validation {
    condition     = var.node_count.min <= var.node_count.desired && var.node_count.desired <= var.node_count.max
    error_message = "node_count must satisfy min <= desired <= max."
  }
}

variable "use_spot" {
  description = "Use spot capacity for the node group."
  type        = bool
  default     = false
}
