output "environment" {
  description = "The environment (workspace) these outputs belong to."
  value       = local.environment
}

output "cluster_name" {
  description = "EKS cluster name, for `aws eks update-kubeconfig --name`."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.cluster.cluster_endpoint
}

output "database_endpoint" {
  description = "host:port of the CODE PostgreSQL database."
  value       = module.database.endpoint
}

output "database_secret_arn" {
  description = "Secrets Manager secret holding the database master credentials."
  value       = module.database.master_user_secret_arn
}

output "backup_bucket" {
  description = "S3 bucket that `codectl dr backup` writes to."
  value       = module.backup_bucket.bucket_name
}
