"""Tests of the website: pages, forms, cookies."""
