//! `check --fix` and the imports it touches, on real files through the real binary: a new
//! import goes where isort/ruff would put it (its section, sorted; never after local imports),
//! joins an existing `from X import …` (one-line and parenthesised forms), and names whose
//! last use a fix replaced are removed — only those. Every input here is clean for
//! `ruff check --select I,F401` (ruff 0.17.6) and so is every expected output (checked with
//! ruff when they were written; ruff is not a test dependency), but for the `login` that
//! `still_used` leaves unused on purpose. Every output is re-parsed.

mod common;

use awaitguard::syntax::{self, Lang};
use common::cli::{run, write};

const MODELS: &str = "from django.db import models\n\n\nclass Book(models.Model):\n    title = models.CharField(max_length=10)\n";

struct Case {
    name: &'static str,
    input: &'static str,
    fixed: &'static str,
}

fn check_cases(django: &str, cases: &[Case]) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pyproject.toml", format!("[tool.awaitguard]\ndjango-version = \"{django}\"\n").as_bytes());
    write(dir.path(), "shop/__init__.py", b"");
    write(dir.path(), "shop/models.py", MODELS.as_bytes());
    for c in cases {
        write(dir.path(), &format!("shop/{}.py", c.name), c.input.as_bytes());
    }
    let o = run(dir.path(), &["check", "--fix", "shop"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    for c in cases {
        let got = std::fs::read_to_string(dir.path().join(format!("shop/{}.py", c.name))).unwrap();
        assert_eq!(got, c.fixed, "{}", c.name);
        assert!(!syntax::has_syntax_error(&syntax::parse(Lang::Python, &got, None)), "{} parses", c.name);
    }
    let o = run(dir.path(), &["check", "--fix", "shop"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "All checks passed!\n"), "a second --fix changes nothing");
}

#[test]
fn new_import_goes_into_its_section() {
    check_cases(
        "4.0",
        &[
            Case {
                name: "stdlib_third_local",
                input: "\"\"\"Views.\"\"\"\nimport json\n\nfrom django.http import JsonResponse\n\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = Book.objects.get(pk=pk)\n    return JsonResponse(json.loads(book.title))\n",
                fixed: "\"\"\"Views.\"\"\"\nimport json\n\nfrom asgiref.sync import sync_to_async\nfrom django.http import JsonResponse\n\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = await sync_to_async(Book.objects.get)(pk=pk)\n    return JsonResponse(json.loads(book.title))\n",
            },
            Case {
                // No third-party section yet: a new one between stdlib and local imports.
                name: "new_section",
                input: "import json\n\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = Book.objects.get(pk=pk)\n    return json.dumps(book.title)\n",
                fixed: "import json\n\nfrom asgiref.sync import sync_to_async\n\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = await sync_to_async(Book.objects.get)(pk=pk)\n    return json.dumps(book.title)\n",
            },
            Case {
                // Sorted after a module that sorts first (`adrf` < `asgiref` < `django`).
                name: "sorted_inside",
                input: "from __future__ import annotations\n\nfrom adrf.views import APIView\nfrom django.http import JsonResponse\n\nfrom .models import Book\n\n\nclass V(APIView):\n    pass\n\n\nasync def detail(request, pk):\n    book = Book.objects.get(pk=pk)\n    return JsonResponse({\"t\": book.title})\n",
                fixed: "from __future__ import annotations\n\nfrom adrf.views import APIView\nfrom asgiref.sync import sync_to_async\nfrom django.http import JsonResponse\n\nfrom .models import Book\n\n\nclass V(APIView):\n    pass\n\n\nasync def detail(request, pk):\n    book = await sync_to_async(Book.objects.get)(pk=pk)\n    return JsonResponse({\"t\": book.title})\n",
            },
        ],
    );
}

#[test]
fn merged_into_existing_from_imports_and_names_made_unused_removed() {
    check_cases(
        "5.1",
        &[
            Case {
                // `authenticate`'s only use is replaced: removed; `get_user_model` stays.
                name: "one_line",
                input: "from django.contrib.auth import authenticate, get_user_model\nfrom django.http import HttpResponse\n\n\nasync def sign_in(request):\n    user = authenticate(request, username=\"a\", password=\"b\")\n    return HttpResponse(str(user) + str(get_user_model()))\n",
                fixed: "from django.contrib.auth import aauthenticate, get_user_model\nfrom django.http import HttpResponse\n\n\nasync def sign_in(request):\n    user = await aauthenticate(request, username=\"a\", password=\"b\")\n    return HttpResponse(str(user) + str(get_user_model()))\n",
            },
            Case {
                name: "parenthesised",
                input: "from django.http import HttpResponse\nfrom django.shortcuts import (\n    get_list_or_404,\n    get_object_or_404,\n    redirect,\n)\n\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = get_object_or_404(Book, pk=pk)\n    return HttpResponse(book.title)\n\n\ndef other(request):\n    return redirect(get_list_or_404(Book))\n",
                fixed: "from django.http import HttpResponse\nfrom django.shortcuts import (\n    aget_object_or_404,\n    get_list_or_404,\n    redirect,\n)\n\nfrom .models import Book\n\n\nasync def detail(request, pk):\n    book = await aget_object_or_404(Book, pk=pk)\n    return HttpResponse(book.title)\n\n\ndef other(request):\n    return redirect(get_list_or_404(Book))\n",
            },
            Case {
                // Still used by sync code: kept. Unused before the fix (`login`): not ours, kept.
                name: "still_used",
                input: "from django.contrib.auth import authenticate, login\n\n\nasync def a(request):\n    return authenticate(request)\n\n\ndef b(request):\n    return authenticate(request)\n",
                fixed: "from django.contrib.auth import aauthenticate, authenticate, login\n\n\nasync def a(request):\n    return await aauthenticate(request)\n\n\ndef b(request):\n    return authenticate(request)\n",
            },
        ],
    );
}
