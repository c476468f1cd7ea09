"""The chat page: conversations, streamed answers with citations, per-chat options."""

from .chat_options import ChatOptions, OptionsBar
from .citation_preview import CitationPreview
from .input_box import ChatInput
from .message_view import MessageView
from .page import ChatPage
from .transcript import Transcript

__all__ = ["ChatPage", "ChatInput", "ChatOptions", "CitationPreview", "MessageView", "OptionsBar", "Transcript"]
