"""The Libraries page: folders of documents, their indexing and the files skipped."""

from .page import LibrariesPage

__all__ = ["LibrariesPage"]
