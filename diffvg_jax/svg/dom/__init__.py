"""The document: safe XML into a small element tree (``xmlsafe``) and CSS style sheets (``css``)."""
