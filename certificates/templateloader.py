"""Templates of the certificate kinds, read from each kind's folder.

``kinds/<value>/pdf.html`` is ``pdf.html`` in the folder of the kind registered
as ``<value>`` (certificates.registry), wherever that folder is: in
``certificates/kinds/``, in an agency app, or in a test package. Only the plain
file names of a folder are served, never a path out of it.
"""

from django.template import Origin, TemplateDoesNotExist
from django.template.loaders.base import Loader as BaseLoader

from certificates import registry


class Loader(BaseLoader):
    def get_template_sources(self, template_name):
        parts = template_name.split("/")
        if len(parts) != 3 or parts[0] != "kinds" or parts[2] not in (registry.PDF_TEMPLATE, registry.FACTS_TEMPLATE):
            return
        kind = registry.find(parts[1])
        if kind is None:
            return
        yield Origin(name=str(kind.directory / parts[2]), template_name=template_name, loader=self)

    def get_contents(self, origin):
        try:
            with open(origin.name, encoding=self.engine.file_charset) as fp:
                return fp.read()
        except FileNotFoundError as error:
            raise TemplateDoesNotExist(origin) from error
