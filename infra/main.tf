# CODE's cloud footprint for one environment, selected by the workspace:
#   tofu workspace select prod && tofu apply -var-file=envs/prod.tfvars
locals {
  environment = terraform.workspace
  name        = "code-engine-${local.environment}"

  tags = {
    Project     = "code-engine"
    Environment = local.environment
    ManagedBy   = "opentofu"
  }
}

# Refuses to plan when the workspace and the var file disagree (e.g. prod.tfvars in dev).
resource "terraform_data" "workspace_guard" {
  input = local.environment

  lifecycle {
    precondition {
      condition     = contains(["dev", "staging", "prod"], terraform.workspace)
      error_message = "Select a workspace named dev, staging or prod (not \"${terraform.workspace}\")."
    }
    precondition {
      condition     = var.environment == terraform.workspace
      error_message = "var.environment (${var.environment}) does not match the workspace (${terraform.workspace})."
    }
  }
}

module "network" {
  source = "./modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = local.environment != "prod"
}

module "cluster" {
  source = "./modules/cluster"

  name                = local.name
  kubernetes_version  = var.cluster_version
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.private_subnet_ids
  node_instance_types = var.node_instance_types
  node_count          = var.node_count
  use_spot            = var.use_spot
}

module "database" {
  source = "./modules/database"

  name                    = local.name
  vpc_id                  = module.network.vpc_id
  subnet_ids              = module.network.private_subnet_ids
  allowed_security_groups = [module.cluster.node_security_group_id]
  instance_class          = var.db_instance_class
  allocated_storage_gb    = var.db_allocated_storage_gb
  multi_az                = var.db_multi_az
  backup_retention_days   = var.db_backup_retention_days
  deletion_protection     = local.environment == "prod"
}

module "backup_bucket" {
  source = "./modules/backup_bucket"

  name           = "${local.name}-backups"
  retention_days = var.backup_retention_days
  force_destroy  = local.environment == "dev"
}
