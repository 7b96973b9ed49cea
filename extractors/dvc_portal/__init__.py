from extractors.dvc_portal.client import DvcPortalClient

__all__ = ["DvcPortalClient"]
