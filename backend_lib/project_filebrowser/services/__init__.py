"""The service layer in parts: :mod:`.runtime` (settings, state DB, remote, sync manager,
status), :mod:`.projects`, :mod:`.files` (file views and dry runs) and :mod:`.conflicts`.
:class:`project_filebrowser.service.ProjectFileBrowserService` is all of them in one.
"""
