"""Files Bunko reads at run time: prompt templates, translations, icons, fonts.

A package only so that they install with the code; see engine/resources.py."""
