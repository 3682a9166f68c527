;;; eglot-test.el --- awaitguard in a real Emacs with eglot, headless  -*- lexical-binding: t -*-
;;
;; Run by run.sh: emacs --batch -Q -l eglot-test.el, with AG_TEST_SNIPPET (the README's eglot
;; configuration, loaded as a user would), AG_TEST_FILE (a copy of views.py) and `awaitguard'
;; on PATH.  Opens the file, starts eglot, waits for the server's diagnostics through Flymake,
;; checks codes and ranges (one AG101 in the async view; the correct async view and the sync
;; function are silent), picks the preferred quick fix the way a user accepts the default in
;; `eglot-code-actions', checks the edited text and that the diagnostics clear.  Prints
;; "PASS eglot" and exits 0, or "FAIL eglot: WHY" and exits 1.

(require 'cl-lib)
(require 'package)
;; Debian's elpa-eglot and its dependencies (-Q skips the site start file that lists them).
(when (file-directory-p "/usr/share/emacs/site-lisp/elpa")
  (add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa"))
(package-initialize)
(require 'eglot)
(require 'flymake)

(defun ag-fail (fmt &rest args)
  (princ (format "FAIL eglot: %s\n" (apply #'format fmt args)))
  (kill-emacs 1))

(defun ag-wait (what pred &optional seconds)
  "Wait up to SECONDS (default 20) for PRED to return non-nil; return its value."
  (let ((deadline (+ (float-time) (or seconds 20))) v)
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (or v (ag-fail "timed out waiting for %s" what))))

(defun ag-diags ()
  "Flymake's diagnostics in this buffer as (LINE COL END-LINE END-COL TEXT), sorted."
  (sort (mapcar (lambda (d)
                  (let ((b (flymake-diagnostic-beg d)) (e (flymake-diagnostic-end d)))
                    (list (line-number-at-pos b) (save-excursion (goto-char b) (current-column))
                          (line-number-at-pos e) (save-excursion (goto-char e) (current-column))
                          (flymake-diagnostic-text d))))
                (flymake-diagnostics))
        (lambda (a b) (< (car a) (car b)))))

(condition-case err
    (let ((file (getenv "AG_TEST_FILE")))
      (load (getenv "AG_TEST_SNIPPET") nil t)
      (unless (assoc '(python-mode python-ts-mode) eglot-server-programs)
        (ag-fail "the README snippet did not add awaitguard to eglot-server-programs"))
      (find-file file)
      (unless (eq major-mode 'python-mode) (ag-fail "not in python-mode: %s" major-mode))
      (apply #'eglot (eglot--guess-contact))
      (let ((server (ag-wait "eglot to connect" (lambda () (eglot-current-server)))))
        (unless (equal (plist-get (eglot--server-info server) :name) "awaitguard")
          (ag-fail "connected to %S, not awaitguard" (eglot--server-info server)))
        ;; Flymake starts its backends from the command loop, which batch mode lacks.
        (flymake-start)
        (let ((diags (ag-wait "diagnostics" (lambda () (flymake-start) (ag-diags)))))
          ;; One finding: `Book.objects.get(pk=pk)' on line 7, columns 11-30 (0-based).
          (unless (= (length diags) 1) (ag-fail "want 1 diagnostic, got %S" diags))
          (pcase-let ((`(,line ,col ,eline ,ecol ,text) (car diags)))
            (unless (and (= line 7) (= eline 7) (= col 11) (= ecol 34))
              (ag-fail "AG101 range: got %d:%d-%d:%d" line col eline ecol))
            (unless (string-match-p "\\`awaitguard \\[AG101\\]: " text)
              (ag-fail "want awaitguard [AG101], got %S" text))))
        ;; The quick fix: the user runs eglot-code-actions on the finding and accepts the
        ;; default, which eglot makes the preferred action.
        (goto-char (point-min))
        (forward-line 6)
        (search-forward "Book.objects.get")
        ;; As from the keyboard (a mouse event would pop up a menu instead).
        (let ((beg (match-beginning 0)) (offered nil) (last-nonmenu-event ?\r))
          (cl-letf (((symbol-function 'completing-read)
                     (lambda (_prompt items &optional _pred _req _init _hist def &rest _)
                       (setq offered (mapcar #'car items))
                       def)))
            (eglot-code-actions beg (line-end-position) "quickfix" t))
          (unless (cl-some (lambda (x) (string-match-p "Disable AG101" x)) offered)
            (ag-fail "no \"Disable AG101\" action among %S" offered)))
        (let ((text (buffer-substring-no-properties (point-min) (point-max))))
          (unless (string-match-p "^    book = await Book\\.objects\\.aget(pk=pk)$" text)
            (ag-fail "the quick fix did not rewrite the call:\n%s" text))
          (unless (string-match-p "^    return Book\\.objects\\.get(pk=pk)\\.title$" text)
            (ag-fail "the sync function changed:\n%s" text)))
        ;; eglot sends the change from an idle timer, which batch mode never runs: send it as that
        ;; timer would.  The server then publishes no finding for the new version.
        (eglot--signal-textDocument/didChange)
        (ag-wait "the diagnostics to clear" (lambda () (flymake-start) (null (ag-diags))) 30)
        (eglot-shutdown server))
      (princ "PASS eglot\n")
      (kill-emacs 0))
  (error (ag-fail "%s" (error-message-string err))))
