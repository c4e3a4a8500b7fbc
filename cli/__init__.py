"""The operator CLI (`nomi-gateway`): a development and operations tool, never imported by deployed code."""
