<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP" sourcelanguage="en">
<context>
    <name>App</name>
    <message>
        <location filename="../../desktop/app.py" line="+109"/>
        <source>Something went wrong</source>
        <translation>問題が発生しました</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko hit an unexpected problem.

{error}

The details are in the log: {log}</source>
        <translation>Bunko で予期しない問題が発生しました。

{error}

詳細はログに記録されています: {log}</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Loading the chat model…</source>
        <translation>チャットモデルを読み込んでいます…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Ready</source>
        <translation>準備完了</translation>
    </message>
    <message>
        <location line="+52"/>
        <location line="+8"/>
        <source>Bunko cannot start</source>
        <translation>Bunko を起動できません</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>The Bunko database is in use by another program, so Bunko cannot open it.

{details}</source>
        <translation>Bunko のデータベースを別のプログラムが使用中のため、開けません。

{details}</translation>
    </message>
</context>
<context>
    <name>AppContext</name>
    <message>
        <location filename="../../desktop/context.py" line="+98"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Something went wrong</source>
        <translation>問題が発生しました</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko hit an unexpected problem and stopped that task; the app keeps running.

{error}

The details are in the log: {log}</source>
        <translation>Bunko で予期しない問題が発生したため、その処理を中止しました。アプリはそのまま使用できます。

{error}

詳細はログに記録されています: {log}</translation>
    </message>
</context>
<context>
    <name>BaseStep</name>
    <message>
        <location filename="../../desktop/finetune/settings_step.py" line="+47"/>
        <source>Base model</source>
        <translation>ベースモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model the adapter is trained for; in chat the adapter is used with it.</source>
        <translation>アダプターを学習させる対象のモデルです。チャットではこのモデルと組み合わせて使います。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Model:</source>
        <translation>モデル(&amp;M):</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The trainer reads the model&apos;s GGUF file; quantized models are dequantized for training, so the training computer needs room for the full-precision weights.</source>
        <translation>学習ではモデルの GGUF ファイルを読み込みます。量子化されたモデルは学習用に逆量子化されるため、学習するコンピューターには元の精度の重みを置ける容量が必要です。</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>There is no model yet: add a GGUF model on the Models page first.</source>
        <translation>モデルがまだありません。先に「モデル」ページで GGUF モデルを追加してください。</translation>
    </message>
</context>
<context>
    <name>CatalogDialog</name>
    <message>
        <location filename="../../desktop/models/catalog_dialog.py" line="+35"/>
        <source>Get models</source>
        <translation>モデルを入手</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Instruct models that write good Japanese. Downloading is the only thing that goes online; the file is checked (size, sha256) before it is added. Speeds are rough guesses.</source>
        <translation>日本語が得意な指示追従モデルです。ダウンロードだけがネットワークに接続します。ファイルは追加する前に検査されます（サイズ、sha256）。速度はおおよその目安です。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Quantization</source>
        <translation>量子化</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Size</source>
        <translation>サイズ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Licence</source>
        <translation>ライセンス</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Languages</source>
        <translation>言語</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Fits this computer</source>
        <translation>このPCで動くか</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Rough speed</source>
        <translation>おおよその速度</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Download</source>
        <translation>ダウンロード</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel download</source>
        <translation>ダウンロードを中止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import from folder…</source>
        <translation>フォルダから取り込む…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>~{n} tokens/s</source>
        <translation>約 {n} トークン/秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Yes, on the GPU</source>
        <translation>はい（GPU）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Yes, GPU and CPU</source>
        <translation>はい（GPU と CPU）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Yes, on the CPU</source>
        <translation>はい（CPU）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>No</source>
        <translation>いいえ</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Download an unverified model?</source>
        <translation>検証されていないモデルをダウンロードしますか?</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko&apos;s catalog does not pin {name} {quant} to a checked version (commit and sha256), so it cannot tell the file the hub serves today from the one that was reviewed. Download it only if you trust its publisher ({repo}).</source>
        <translation>Bunko のカタログは {name} {quant} を確認済みの版(コミットと sha256)に固定していないため、今日ハブが配布するファイルが確認されたものと同じか判別できません。公開元({repo})を信頼できる場合にのみダウンロードしてください。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Downloading {name} {quant}…</source>
        <translation>{name} {quant} をダウンロード中…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Import GGUF models from a folder</source>
        <translation>フォルダから GGUF モデルを取り込む</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Importing from {path}…</source>
        <translation>{path} から取り込み中…</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Downloading</source>
        <translation>ダウンロード中</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Checking</source>
        <translation>検査中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copying</source>
        <translation>コピー中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{stage}: {done} of {total}, {rate}, {left} left</source>
        <translation>{stage}: {done} / {total}、{rate}、残り {left}</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Added: {names}</source>
        <translation>追加しました: {names}</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Nothing was added.</source>
        <translation>何も追加されませんでした。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not imported:</source>
        <translation>取り込めなかったもの:</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Download stopped. Download again to resume where it stopped.</source>
        <translation>ダウンロードを中止しました。もう一度ダウンロードすると、止まったところから再開します。</translation>
    </message>
</context>
<context>
    <name>ChatInput</name>
    <message>
        <location filename="../../desktop/chat/input_box.py" line="+28"/>
        <source>Ask a question… (Enter sends, Shift+Enter for a new line)</source>
        <translation>質問を入力… (Enter で送信、Shift+Enter で改行)</translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../../desktop/chat/page.py" line="+60"/>
        <location line="+341"/>
        <source>Send</source>
        <translation>送信</translation>
    </message>
    <message>
        <location line="-339"/>
        <location line="+341"/>
        <source>Send the question (Enter)</source>
        <translation>質問を送信します (Enter)</translation>
    </message>
    <message>
        <location line="-339"/>
        <location line="+340"/>
        <source>Side by side…</source>
        <translation>並べて比較…</translation>
    </message>
    <message>
        <location line="-339"/>
        <location line="+340"/>
        <source>Ask this question two ways and compare the answers (Ctrl+Shift+B)</source>
        <translation>この質問を2通りで尋ねて回答を比べる (Ctrl+Shift+B)</translation>
    </message>
    <message>
        <location line="-261"/>
        <source>Stopping the answer…</source>
        <translation>回答を停止しています…</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>New chat with the adapter {name}.</source>
        <translation>アダプター {name} を使う新しいチャットを開きました。</translation>
    </message>
    <message>
        <location line="+177"/>
        <source>Loading the chat model…</source>
        <translation>チャットモデルを読み込んでいます…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Model loaded: {name}</source>
        <translation>モデルを読み込みました: {name}</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>an unexpected error</source>
        <translation>予期しないエラー</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the answer; what it wrote so far is kept</source>
        <translation>回答を停止します。それまでに生成された内容は残ります</translation>
    </message>
</context>
<context>
    <name>CitationPreview</name>
    <message>
        <location filename="../../desktop/chat/citation_preview.py" line="+82"/>
        <source>Source [{n}]: {name}</source>
        <translation>出典 [{n}]: {name}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Library: {name}</source>
        <translation>ライブラリ: {name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Location: {where}</source>
        <translation>場所: {where}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Open file</source>
        <translation>ファイルを開く</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open {path} in its usual program</source>
        <translation>{path} を既定のアプリで開きます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show in folder</source>
        <translation>フォルダーで表示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{path} is not a document type Bunko opens (scripts and programs could run); its folder is shown instead</source>
        <translation>{path} は Bunko が開く文書の種類ではありません(スクリプトやプログラムは実行されるおそれがあります)。代わりにそのフォルダーを表示します</translation>
    </message>
    <message>
        <location line="+53"/>
        <source>Loading the scanned page…</source>
        <translation>スキャンしたページを読み込んでいます…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The scanned page cannot be shown: {reason}</source>
        <translation>スキャンしたページを表示できません: {reason}</translation>
    </message>
    <message>
        <location line="+29"/>
        <source> (OCR confidence {value:.0%})</source>
        <translation>（OCR の確信度 {value:.0%}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Scanned page {page}, read by OCR: check the words against the scan.</source>
        <translation>スキャンした {page} ページ目（OCR で読み取り）: 文字をスキャン画像と照らし合わせて確認してください。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The file is no longer there: {path}</source>
        <translation>ファイルが見つかりません: {path}</translation>
    </message>
</context>
<context>
    <name>ComparePage</name>
    <message>
        <location filename="../../desktop/compare/page.py" line="+173"/>
        <source>Questions</source>
        <translation>質問</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Base model</source>
        <translation>ベースモデル</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Libraries (RAG)</source>
        <translation>ライブラリ (RAG)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adapter (fine-tuned)</source>
        <translation>アダプター (ファインチューニング)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>More arms (other models)</source>
        <translation>追加の比較対象(他のモデル)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answer length (tokens)</source>
        <translation>回答の長さ (トークン)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>From a file…</source>
        <translation>ファイルから…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Held out of this job</source>
        <translation>このジョブの評価用データから</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Draft from this library</source>
        <translation>このライブラリから下書き</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+24"/>
        <location line="+220"/>
        <source>Question</source>
        <translation>質問</translation>
    </message>
    <message>
        <location line="-244"/>
        <source>Reference answers (| between)</source>
        <translation>正解 (複数は | で区切る)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Source document</source>
        <translation>出典文書</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run comparison</source>
        <translation>比較を実行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a run</source>
        <translation>実行を選んでください</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pick a run on the left to see its table, each question&apos;s answers side by side, and how RAG and the adapter follow a changed fact.</source>
        <translation>左の一覧から実行を選ぶと、結果の表、質問ごとの各方式の回答の比較、事実を変えたときに RAG とアダプターが追従するかが表示されます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Prepare a comparison</source>
        <translation>比較を準備</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export…</source>
        <translation>エクスポート…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Set up</source>
        <translation>準備</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Results</source>
        <translation>結果</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answers side by side</source>
        <translation>回答の並列表示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Freshness</source>
        <translation>鮮度</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Arm</source>
        <translation>方式</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Answered</source>
        <translation>回答数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Accuracy [95% CI]</source>
        <translation>正答率 [95% 信頼区間]</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Base right</source>
        <translation>base 正答の問</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>F1</source>
        <translation>F1</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Similarity</source>
        <translation>類似度</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Grounded</source>
        <translation>根拠あり</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Base wrong</source>
        <translation>base 誤答の問</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Time to first token (s)</source>
        <translation>最初のトークンまで (秒)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Tokens/s</source>
        <translation>トークン/秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Accuracy on the questions the base model already answered right: what it knew before.</source>
        <translation>ベースモデルが元から正しく答えた問題での正答率（もともと知っていたこと）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Accuracy on the questions the base model answered wrong: facts new to it.</source>
        <translation>ベースモデルが誤答した問題での正答率（モデルにとって新しい事実）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+29"/>
        <source>— none —</source>
        <translation>— なし —</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>not started</source>
        <translation>未開始</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>running</source>
        <translation>実行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>done</source>
        <translation>完了</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>stopped</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>interrupted</source>
        <translation>中断</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Choose a question file</source>
        <translation>質問ファイルを選択</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Questions (*.jsonl *.csv *.tsv);;All files (*)</source>
        <translation>質問 (*.jsonl *.csv *.tsv);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Drafting questions…</source>
        <translation>質問を下書きしています…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>line {line}: {reason}</source>
        <translation>{line} 行目: {reason}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} questions</source>
        <translation>質問 {n} 件</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Load or type some questions first.</source>
        <translation>先に質問を読み込むか入力してください。</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>, {s} s left</source>
        <translation>、残り {s} 秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{arm}: {done}/{total}{left}</source>
        <translation>{arm}: {done}/{total}{left}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Finished.</source>
        <translation>完了しました。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stopped: finished answers are kept; run it again to continue.</source>
        <translation>停止しました。完了した回答は保存されています。もう一度実行すると続きから再開します。</translation>
    </message>
    <message>
        <location filename="../../desktop/compare/wording.py" line="+33"/>
        <source>no clear difference</source>
        <translation>はっきりした差なし</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{winner} better than {loser}</source>
        <translation>{winner} が {loser} より良い</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No answers yet.</source>
        <translation>まだ回答がありません。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{arm} answers best ({accuracy} of {n})</source>
        <translation>最も正答率が高いのは {arm}（{n} 問中 {accuracy}）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>; clearly better than {arms}</source>
        <translation>。{arms} より明らかに良い</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; not clearly better than {arms} on this many questions</source>
        <translation>。この問題数では {arms} との差ははっきりしない</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>. After a document changed, {arms} followed after re-indexing ({seconds:.1f} s); the adapter did not (retraining: {retrain})</source>
        <translation>。文書の変更後、{arms} は再インデックス（{seconds:.1f} 秒）で追従し、アダプターは追従しなかった（再学習: {retrain}）</translation>
    </message>
    <message>
        <location line="-24"/>
        <source>see the training estimate</source>
        <translation>学習の見積もりを参照</translation>
    </message>
    <message>
        <location line="-3"/>
        <source>no estimate, since the adapter was not trained in this data folder</source>
        <translation>見積もりなし。このデータフォルダで学習されていないアダプターのため</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Prefer RAG when documents change often; fine-tune for style and format</source>
        <translation>文書がよく変わるなら RAG を、文体や形式にはファインチューニングを選んでください</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>RAG is not clearly worse and follows changed documents without retraining</source>
        <translation>RAG は明らかには劣らず、変更された文書に再学習なしで追従します</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The adapter pays off here; retrain it when the facts change</source>
        <translation>ここではアダプターが効果的です。事実が変わったら再学習してください</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>. {advice}</source>
        <translation>。{advice}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>.</source>
        <translation>。</translation>
    </message>
    <message>
        <location filename="../../desktop/compare/page.py" line="+39"/>
        <source>Preparation, {what}: {cost}</source>
        <translation>準備コスト、{what}: {cost}</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Reference</source>
        <translation>正解</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>right</source>
        <translation>正答</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>wrong</source>
        <translation>誤答</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>similarity</source>
        <translation>類似度</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>sources</source>
        <translation>出典</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Export the comparison</source>
        <translation>比較結果をエクスポート</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HTML report (*.html);;CSV table (*.csv)</source>
        <translation>HTML レポート (*.html);;CSV 表 (*.csv)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Saved {path}</source>
        <translation>{path} に保存しました</translation>
    </message>
</context>
<context>
    <name>CompareTable</name>
    <message>
        <location filename="../../desktop/finetune/results.py" line="+32"/>
        <source>Question</source>
        <translation>質問</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Expected</source>
        <translation>期待される回答</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Before (base model)</source>
        <translation>学習前 (ベースモデル)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>After (with the adapter)</source>
        <translation>学習後 (アダプター適用)</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <location filename="../../desktop/chat/conversation_list.py" line="+74"/>
        <source>Search chats</source>
        <translation>チャットを検索</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start a new conversation</source>
        <translation>新しい会話を始めます</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename</source>
        <translation>名前を変更</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Delete</source>
        <translation>削除</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>{title}
{n} messages · {when:%Y-%m-%d %H:%M}</source>
        <translation>{title}
メッセージ {n} 件 · {when:%Y-%m-%d %H:%M}</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>Delete chat</source>
        <translation>チャットを削除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the chat “{title}” and all its messages? This cannot be undone.</source>
        <translation>チャット「{title}」とそのすべてのメッセージを削除しますか? この操作は元に戻せません。</translation>
    </message>
</context>
<context>
    <name>DataStep</name>
    <message>
        <location filename="../../desktop/finetune/data_step.py" line="+111"/>
        <source>Training data</source>
        <translation>学習データ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Questions and answers the model should learn.</source>
        <translation>モデルに学習させる質問と回答です。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Import JSONL (OpenAI messages, ShareGPT or Alpaca) or CSV with a question and an answer column (UTF-8 or Shift_JIS), take the chats you had in Bunko, or drop files here. Cells can be edited; bad rows are skipped and listed below.</source>
        <translation>JSONL (OpenAI の messages 形式、ShareGPT、Alpaca) または質問列と回答列のある CSV (UTF-8 または Shift_JIS) を読み込むか、Bunko でのチャットを使うか、ここにファイルをドロップしてください。セルは編集できます。不正な行はスキップされ、下に一覧表示されます。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Import file(s)…</source>
        <translation>ファイルを読み込む(&amp;I)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From this app&apos;s &amp;conversations</source>
        <translation>このアプリの会話から(&amp;C)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>D&amp;raft from a library…</source>
        <translation>ライブラリから下書き(&amp;R)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The local model writes a question and its answer for passages of a library; review them before training (small models draft poorly).</source>
        <translation>ローカルモデルがライブラリの文章から質問と答えを作ります。学習の前に確認してください(小さなモデルの下書きは不正確です)。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Delete selected rows</source>
        <translation>選択した行を削除(&amp;D)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Held out for comparing before and after:</source>
        <translation>学習前後の比較用に取り分ける割合(&amp;H):</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bad rows (skipped):</source>
        <translation>不正な行 (スキップ):</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Import training data</source>
        <translation>学習データの読み込み</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training data (*.jsonl *.json *.ndjson *.csv *.tsv);;All files (*)</source>
        <translation>学習データ (*.jsonl *.json *.ndjson *.csv *.tsv);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Bunko conversations</source>
        <translation>Bunko の会話</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>There is no library yet: add a folder on the Libraries page first.</source>
        <translation>ライブラリがまだありません。先にライブラリのページでフォルダーを追加してください。</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+4"/>
        <source>Draft from a library</source>
        <translation>ライブラリから下書き</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>Library:</source>
        <translation>ライブラリ:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Passages to draft from:</source>
        <translation>下書きに使う文章の数:</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Drafting from {name}…</source>
        <translation>{name} から下書き中…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Drafting from {name}: {done} of {total} passages…</source>
        <translation>{name} から下書き中: {total} 件中 {done} 件…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>drafted from {name}</source>
        <translation>{name} からの下書き</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>{source}, line {line}</source>
        <translation>{source} の {line} 行目</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{source} has no examples.</source>
        <translation>{source} には学習例がありません。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>{n} examples: {train} to train on, {held} held out.</source>
        <translation>学習例 {n} 件: 学習用 {train} 件、比較用 {held} 件。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(Nothing is held out below 10 examples.)</source>
        <translation>(学習例が 10 件未満の場合は取り分けません。)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{n} examples are longer than the sequence length ({seq} tokens): the ends of their answers would be cut. Shorten them, or raise the sequence length in the settings.</source>
        <translation>{n} 件の学習例がシーケンス長 ({seq} トークン) を超えているため、回答の末尾が切り捨てられます。短くするか、設定でシーケンス長を大きくしてください。</translation>
    </message>
</context>
<context>
    <name>DoneStep</name>
    <message>
        <location filename="../../desktop/finetune/train_step.py" line="+226"/>
        <source>Done</source>
        <translation>完了</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Use in chat</source>
        <translation>チャットで使う(&amp;U)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The adapter {name} is trained and registered for {base}. Final loss: {loss}.</source>
        <translation>アダプター {name} の学習が完了し、{base} 用に登録されました。最終損失: {loss}。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Answering held-out questions with and without the adapter…</source>
        <translation>比較用の質問に、アダプターなしとありで回答させています…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Before and after training:</source>
        <translation>学習前と学習後:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>There were no questions to compare.</source>
        <translation>比較する質問がありませんでした。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The comparison failed: {error}</source>
        <translation>比較に失敗しました: {error}</translation>
    </message>
</context>
<context>
    <name>EmbedHostChoice</name>
    <message>
        <location filename="../../desktop/library/embed_host.py" line="+96"/>
        <source>Embed on:</source>
        <translation>埋め込みの実行場所:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Where this library&apos;s passages are turned into vectors. A GPU server of yours (over SSH, with onnxruntime there) embeds a large library faster; the index stays on this PC.</source>
        <translation>このライブラリのパッセージをベクトルに変換する場所です。SSH で接続するお手持ちの GPU サーバー（onnxruntime が必要）を使うと、大きなライブラリを速く埋め込めます。インデックスはこの PC に残ります。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This PC</source>
        <translation>このPC</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>What leaves this computer</source>
        <translation>このコンピューターから送信されるもの</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Embedding this library on {where} sends the text of its files there: every passage Bunko cuts from them, to be turned into vectors by Bunko&apos;s own script on that server. Only that server receives it, over SSH; the vectors come back and the index stays on this PC.

Not sent: other libraries, conversations and the database.

Send the text of this library to {where}?</source>
        <translation>このライブラリを {where} で埋め込むと、ファイルのテキストがそのサーバーに送られます。Bunko が切り出したすべてのパッセージを、そのサーバー上の Bunko 自身のスクリプトがベクトルに変換します。受け取るのはそのサーバーだけで、通信は SSH 経由です。ベクトルは戻され、インデックスはこの PC に残ります。

送信されないもの: ほかのライブラリ、会話、データベース。

このライブラリのテキストを {where} に送りますか？</translation>
    </message>
</context>
<context>
    <name>EndpointDialog</name>
    <message>
        <location filename="../../desktop/models/remote_dialogs.py" line="+27"/>
        <source>Add a model from an endpoint</source>
        <translation>エンドポイントのモデルを追加</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>kept in the system keyring</source>
        <translation>システムのキーリングに保存されます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>List models</source>
        <translation>モデル一覧を取得</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>default: the model&apos;s name</source>
        <translation>既定: モデルの名前</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Base URL</source>
        <translation>ベース URL</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>API key</source>
        <translation>API キー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name in Bunko</source>
        <translation>Bunko での名前</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Asking {url} for its models…</source>
        <translation>{url} にモデル一覧を問い合わせています…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{n} models offered.</source>
        <translation>{n} 個のモデルが提供されています。</translation>
    </message>
</context>
<context>
    <name>Estimate</name>
    <message>
        <location filename="../../desktop/common.py" line="+47"/>
        <source>{n} s</source>
        <translation>{n} 秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{n} min</source>
        <translation>{n} 分</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{n} h</source>
        <translation>{n} 時間</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{steps} steps, about {memory} GiB of {device} memory, about {time}</source>
        <translation>{steps} ステップ、{device} メモリ約 {memory} GiB、所要時間 約 {time}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>GPU</source>
        <translation>GPU</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
</context>
<context>
    <name>ExamplesModel</name>
    <message>
        <location filename="../../desktop/finetune/examples_model.py" line="+63"/>
        <source>Question</source>
        <translation>質問</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Answer</source>
        <translation>回答</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Tokens (approx.)</source>
        <translation>トークン数 (概算)</translation>
    </message>
</context>
<context>
    <name>FinetunePage</name>
    <message>
        <location filename="../../desktop/finetune/page.py" line="+112"/>
        <source>Teach a model your own questions and answers with LoRA, on this computer or on your GPU server over SSH. Training goes on when Bunko is closed and is followed again when it starts.</source>
        <translation>自社の質問と回答を LoRA でモデルに学習させます。このコンピューター、または SSH 経由の GPU サーバーで学習できます。Bunko を閉じても学習は続き、次回起動時に再び進捗を追跡します。</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+9"/>
        <source>New fine-tune…</source>
        <translation>新しいファインチューニング…</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume</source>
        <translation>再開</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Clean up…</source>
        <translation>後片付け…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use in chat</source>
        <translation>チャットで使う</translation>
    </message>
    <message>
        <location line="+105"/>
        <source>Follow this job again</source>
        <translation>このジョブの進捗追跡を再開します</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start the job, or continue it from its last checkpoint</source>
        <translation>ジョブを開始するか、最後のチェックポイントから再開します</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Fine-tuning {name} is done: its adapter is ready.</source>
        <translation>ファインチューニング {name} が完了しました。アダプターを使用できます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Fine-tuning {name} failed.</source>
        <translation>ファインチューニング {name} に失敗しました。</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Stopping the trainer; it saves a checkpoint first…</source>
        <translation>学習を停止しています。先にチェックポイントを保存します…</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Clean up</source>
        <translation>後片付け</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the working files of “{name}” on {where} (checkpoints and the copied data)? The adapter stays registered and usable; the job cannot be resumed afterwards.</source>
        <translation>{where} にある「{name}」の作業ファイル (チェックポイントとコピーしたデータ) を削除しますか? アダプターは登録されたまま使用できますが、このジョブは再開できなくなります。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The working files of {name} were deleted.</source>
        <translation>{name} の作業ファイルを削除しました。</translation>
    </message>
    <message>
        <location line="-179"/>
        <source>No fine-tuning yet</source>
        <translation>ファインチューニングはまだありません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fine-tuning teaches a model your own questions and answers. Start with a few dozen examples from a file or drafted from a library; the wizard checks this computer or your GPU server first.</source>
        <translation>ファインチューニングでは、自社の質問と回答をモデルに学習させます。ファイルから、またはライブラリから下書きした数十件の例で始められます。ウィザードが最初にこのコンピューターまたは GPU サーバーを確認します。</translation>
    </message>
</context>
<context>
    <name>FinetuneWizard</name>
    <message>
        <location filename="../../desktop/finetune/wizard.py" line="+47"/>
        <source>New fine-tune</source>
        <translation>新しいファインチューニング</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
</context>
<context>
    <name>FirstRunGuide</name>
    <message>
        <location filename="../../desktop/first_run.py" line="+141"/>
        <source>What are the main points of these documents?</source>
        <translation>これらの文書の要点は何ですか？</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Getting started</source>
        <translation>はじめに</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hide guide</source>
        <translation>ガイドを閉じる</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A library is ready: {name}.</source>
        <translation>ライブラリを用意しました: {name}。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add a folder of documents. Bunko reads and indexes it on this computer.</source>
        <translation>文書のフォルダーを追加してください。Bunko がこのコンピューター上で読み込み、索引を作ります。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add folder…</source>
        <translation>フォルダーを追加…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Checking the models…</source>
        <translation>モデルを確認しています…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Get a model that writes Japanese. {answerer} {recommended}</source>
        <translation>日本語を書けるモデルを入手してください。{answerer} {recommended}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Get models…</source>
        <translation>モデルを入手…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>You asked your first question.</source>
        <translation>最初の質問をしました。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ask a question, for example: {sample}</source>
        <translation>質問してみましょう。例: {sample}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Try it</source>
        <translation>試してみる</translation>
    </message>
</context>
<context>
    <name>FormatBox</name>
    <message>
        <location filename="../../desktop/finetune/format_box.py" line="+65"/>
        <source>Training format</source>
        <translation>学習データの形式</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Format:</source>
        <translation>形式(&amp;F):</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Plain question → answer</source>
        <translation>質問 → 回答のみ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>RAG-style with passages (RAFT)</source>
        <translation>資料付きの RAG 形式 (RAFT)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Both</source>
        <translation>両方</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>RAG-style examples put each question in the prompt the chat uses with your documents: passages found in the library, the one with the answer among them in the share you choose, and an answer that cites it [n] and quotes its sentence. The adapter then learns to read passages, which helps answers with documents.</source>
        <translation>RAG 形式の例では、各質問をチャットが文書と一緒に使うプロンプトに入れます。ライブラリで見つけた資料を添え、答えを含む資料は指定した割合の例にだけ入れます。回答はその資料を [n] で示し、根拠の文を引用します。アダプターが資料の読み方を学ぶので、文書付きの回答が良くなります。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Library:</source>
        <translation>ライブラリ(&amp;L):</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answer passage &amp;present in:</source>
        <translation>答えの資料を含める割合(&amp;P):</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pre&amp;view</source>
        <translation>プレビュー(&amp;V)</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>RAG-style examples need a library: add a folder on the Libraries page.</source>
        <translation>RAG 形式の例にはライブラリが必要です。ライブラリのページでフォルダーを追加してください。</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>Add examples and choose a library first.</source>
        <translation>先に例を追加し、ライブラリを選んでください。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Finding passages for {n} questions…</source>
        <translation>{n} 件の質問の資料を探しています…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Finding passages: {done} of {total} questions…</source>
        <translation>資料を検索中: {total} 件中 {done} 件…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{n} training examples, {raft} RAG-style ({gold} with the passage that holds the answer); {problems} questions got none.</source>
        <translation>学習例 {n} 件、うち RAG 形式 {raft} 件 (答えを含む資料付き {gold} 件)。{problems} 件の質問は例になりませんでした。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>System</source>
        <translation>システム</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Prompt</source>
        <translation>プロンプト</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Answer to learn</source>
        <translation>学習する回答</translation>
    </message>
</context>
<context>
    <name>FreshnessBox</name>
    <message>
        <location filename="../../desktop/compare/freshness.py" line="+41"/>
        <source>Freshness: change a fact, re-index, ask again</source>
        <translation>鮮度: 事実を変更し、再インデックスして再質問</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Question</source>
        <translation>質問</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>New answer (| between)</source>
        <translation>新しい正解(| で区切る)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Document (in the library&apos;s folder)</source>
        <translation>文書(ライブラリのフォルダー内)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Its new text (leave empty if you edited it)</source>
        <translation>新しい本文(編集済みなら空欄)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>e.g. mascot.md; empty: the documents are already changed</source>
        <translation>例: mascot.md。空欄: 文書はすでに変更済み</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re-index and ask again</source>
        <translation>再インデックスして再質問</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Choose a run, then give the question and its new answer.</source>
        <translation>実行を選び、質問と新しい正解を入力してください。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Name the document the new text goes into.</source>
        <translation>新しい本文を書き込む文書名を入力してください。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Re-indexing and asking again…</source>
        <translation>再インデックスして再質問しています…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Finished.</source>
        <translation>完了しました。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>After the change (round {n}): re-indexed in {s:.1f} s. Follows: {yes}. Does not follow: {no}.</source>
        <translation>変更後(第 {n} 回): 再インデックス {s:.1f} 秒。追従: {yes}。追従しない: {no}。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Retraining the adapter (estimate): {e}</source>
        <translation>アダプターの再学習(見積もり): {e}</translation>
    </message>
</context>
<context>
    <name>GpuServerDialog</name>
    <message>
        <location filename="../../desktop/models/remote_dialogs.py" line="+25"/>
        <source>Add a model on a GPU server</source>
        <translation>GPU サーバーのモデルを追加</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>an alias from ~/.ssh/config, or user@host:port</source>
        <translation>~/.ssh/config のエイリアス、または user@host:port</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Upload from this PC</source>
        <translation>このPCからアップロード</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Download on the server</source>
        <translation>サーバーでダウンロード</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Choose…</source>
        <translation>選択…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source> min (0 = never)</source>
        <translation> 分 (0 = 停止しない)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>optional: a llama-server already on the server</source>
        <translation>任意: サーバーに既にある llama-server</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test connection</source>
        <translation>接続テスト</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Server</source>
        <translation>サーバー</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Model file</source>
        <translation>モデルファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF model</source>
        <translation>GGUF モデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Catalog model</source>
        <translation>カタログのモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Context</source>
        <translation>コンテキスト</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop when idle after</source>
        <translation>未使用時に停止するまでの時間</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>llama-server</source>
        <translation>llama-server</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>No catalog model has an exact size and sha256 yet, so none can be downloaded on the server. Upload one from this PC instead.</source>
        <translation>正確なサイズと sha256 が記載されたカタログのモデルがまだないため、サーバーでダウンロードできません。代わりにこのPCからアップロードしてください。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Choose a GGUF model</source>
        <translation>GGUF モデルを選択</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF モデル (*.gguf);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Enter an alias from ~/.ssh/config, or user@host:port.</source>
        <translation>~/.ssh/config のエイリアス、または user@host:port を入力してください。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Connecting to {host}…</source>
        <translation>{host} に接続しています…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Connected. GPUs: {gpus}; driver {driver}; free disk {disk}.</source>
        <translation>接続しました。GPU: {gpus}、ドライバー {driver}、ディスク空き容量 {disk}。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>none (llama-server would run on the CPU)</source>
        <translation>なし (llama-server は CPU で動作します)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Choose a catalog model to download on the server.</source>
        <translation>サーバーでダウンロードするカタログのモデルを選んでください。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Downloading on {host}; this PC sends nothing but the request.</source>
        <translation>{host} でダウンロード中です。このPCから送るのは要求だけです。</translation>
    </message>
</context>
<context>
    <name>HostDialogs</name>
    <message>
        <location filename="../../desktop/finetune/host_dialogs.py" line="+31"/>
        <source>Bunko has not connected to {host} before. Its {kind} key fingerprint is:

{fingerprint}

Compare it with the fingerprint your server provider shows. Connect and remember this key?</source>
        <translation>Bunko は {host} に接続したことがありません。このサーバーの {kind} 鍵のフィンガープリントは次のとおりです:

{fingerprint}

サーバー提供元が示すフィンガープリントと照合してください。接続して、この鍵を記憶しますか?</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Unknown server</source>
        <translation>未知のサーバー</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Key passphrase</source>
        <translation>鍵のパスフレーズ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The SSH key for {host} is protected by a passphrase. Bunko keeps it in memory until it closes and never stores it.

Passphrase:</source>
        <translation>{host} 用の SSH 鍵はパスフレーズで保護されています。Bunko はパスフレーズを終了までメモリ上にのみ保持し、保存することはありません。

パスフレーズ:</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Warning: the server&apos;s identity has changed. Someone may be intercepting the connection, or the server was reinstalled. Bunko refuses to connect; check with your provider.</source>
        <translation>警告: サーバーの識別情報が変わっています。接続が傍受されているか、サーバーが再インストールされた可能性があります。Bunko は接続を拒否しました。提供元に確認してください。</translation>
    </message>
</context>
<context>
    <name>HostStep</name>
    <message>
        <location filename="../../desktop/finetune/host_step.py" line="+91"/>
        <source>Where to train</source>
        <translation>学習する場所</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training needs a GPU for anything but the smallest models. Your data goes only to the computer chosen here.</source>
        <translation>ごく小さなモデル以外の学習には GPU が必要です。データはここで選んだコンピューターにのみ送られます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;This computer</source>
        <translation>このコンピューター(&amp;T)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;GPU server over SSH</source>
        <translation>SSH 経由の GPU サーバー(&amp;G)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Host from ~/.ssh/config:</source>
        <translation>~/.ssh/config のホスト:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>or host name:</source>
        <translation>またはホスト名:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>User:</source>
        <translation>ユーザー:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Port:</source>
        <translation>ポート:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Key file:</source>
        <translation>鍵ファイル:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>default (22)</source>
        <translation>既定 (22)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Browse…</source>
        <translation>参照…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test &amp;connection</source>
        <translation>接続テスト(&amp;C)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Choose the private key</source>
        <translation>秘密鍵を選択</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Choose a host from ~/.ssh/config or type a host name.</source>
        <translation>~/.ssh/config のホストを選ぶか、ホスト名を入力してください。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Connecting to {host}…</source>
        <translation>{host} に接続しています…</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>&lt;b&gt;{host}&lt;/b&gt;: {system}</source>
        <translation>&lt;b&gt;{host}&lt;/b&gt;: {system}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Python: {version}</source>
        <translation>Python: {version}</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>not found</source>
        <translation>見つかりません</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>GPU: {name}, {memory} GiB ({free} GiB free)</source>
        <translation>GPU: {name}、{memory} GiB (空き {free} GiB)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Driver: {version}</source>
        <translation>ドライバー: {version}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No NVIDIA GPU: CPU training is only practical for tiny models like the embedded SmolLM2.</source>
        <translation>NVIDIA GPU がありません。CPU での学習が実用的なのは、内蔵の SmolLM2 のようなごく小さなモデルだけです。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No NVIDIA GPU found on the server: training would run on its CPU.</source>
        <translation>サーバーに NVIDIA GPU が見つかりません。学習はサーバーの CPU で行われます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Free disk: {n} GiB</source>
        <translation>ディスクの空き容量: {n} GiB</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Trainer environment: ready</source>
        <translation>学習環境: 準備済み</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Trainer environment: will be set up on first run (needs internet on this computer)</source>
        <translation>学習環境: 初回実行時にセットアップされます (このコンピューターでインターネット接続が必要です)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Trainer environment: will be set up on first run (needs internet on the server)</source>
        <translation>学習環境: 初回実行時にセットアップされます (サーバーでインターネット接続が必要です)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&lt;b&gt;Ready to train here.&lt;/b&gt;</source>
        <translation>&lt;b&gt;ここで学習できます。&lt;/b&gt;</translation>
    </message>
</context>
<context>
    <name>IndexProgressPanel</name>
    <message>
        <location filename="../../desktop/library/progress.py" line="+42"/>
        <location line="+39"/>
        <location line="+34"/>
        <source>Pause</source>
        <translation>一時停止</translation>
    </message>
    <message>
        <location line="-71"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location line="+33"/>
        <location line="+11"/>
        <source>Indexing {name}…</source>
        <translation>{name} をインデックス作成中…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Looking for new and changed files…</source>
        <translation>新しいファイルと変更されたファイルを探しています…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Files: {done} / {total}</source>
        <translation>ファイル: {done} / {total}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>({failed} failed)</source>
        <translation>({failed} 件失敗)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Chunks: {n}</source>
        <translation>チャンク: {n}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{rate} chunks/s</source>
        <translation>{rate} チャンク/秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Finishing…</source>
        <translation>仕上げ処理中…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{time} left</source>
        <translation>残り {time}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>(stopping…)</source>
        <translation>(停止中…)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Paused — {name}</source>
        <translation>一時停止中 — {name}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume continues where it stopped; nothing indexed so far is lost.</source>
        <translation>再開すると中断した所から続行します。作成済みのインデックスは失われません。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Resume</source>
        <translation>再開</translation>
    </message>
    <message>
        <location line="-33"/>
        <source>Updating the keyword index for better matches…</source>
        <translation>検索精度を上げるためキーワード索引を更新しています…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Estimating time left…</source>
        <translation>残り時間を見積もっています…</translation>
    </message>
</context>
<context>
    <name>JobDetail</name>
    <message>
        <location filename="../../desktop/finetune/job_detail.py" line="+63"/>
        <source>Compare before and after</source>
        <translation>学習前後を比較</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answer a few held-out questions with the base model alone and with the adapter</source>
        <translation>比較用の質問のいくつかに、ベースモデルのみとアダプター適用時で回答させます</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Before / after</source>
        <translation>学習前 / 学習後</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Training record</source>
        <translation>学習記録</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>No job selected</source>
        <translation>ジョブが選択されていません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Select a job above, or start one with New fine-tune…</source>
        <translation>上の一覧からジョブを選ぶか、「新しいファインチューニング…」で開始してください</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{base} on {where} · {status} · created {created}</source>
        <translation>{base} ・ {where} ・ {status} ・ 作成 {created}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Answering the questions with and without the adapter…</source>
        <translation>アダプターなしとありで質問に回答させています…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>This job has no questions to compare.</source>
        <translation>このジョブには比較する質問がありません。</translation>
    </message>
</context>
<context>
    <name>JobStatus</name>
    <message>
        <location filename="../../desktop/finetune/jobs_model.py" line="+17"/>
        <source>not started</source>
        <translation>未開始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>setting up</source>
        <translation>セットアップ中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>uploading</source>
        <translation>アップロード中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>training</source>
        <translation>学習中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>converting</source>
        <translation>変換中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>done</source>
        <translation>完了</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cancelled</source>
        <translation>キャンセル済み</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>this computer</source>
        <translation>このコンピューター</translation>
    </message>
    <message>
        <location line="+95"/>
        <source>{time} left</source>
        <translation>残り {time}</translation>
    </message>
</context>
<context>
    <name>JobsModel</name>
    <message>
        <location line="-83"/>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Base model</source>
        <translation>ベースモデル</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Where</source>
        <translation>学習場所</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Steps</source>
        <translation>ステップ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Created</source>
        <translation>作成日時</translation>
    </message>
</context>
<context>
    <name>LibrariesPage</name>
    <message>
        <location filename="../../desktop/library/page.py" line="+122"/>
        <source>Add folder…</source>
        <translation>フォルダーを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re-index now</source>
        <translation>今すぐ再インデックス</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove…</source>
        <translation>削除…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko answers from the documents in these folders. Add a folder with the button, or drop folders onto this page.</source>
        <translation>Bunko はこれらのフォルダー内の文書をもとに回答します。ボタンでフォルダーを追加するか、このページにフォルダーをドロップしてください。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Folder</source>
        <translation>フォルダー</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Documents</source>
        <translation>文書</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Chunks</source>
        <translation>チャンク</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Skipped</source>
        <translation>スキップ</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+184"/>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location line="-184"/>
        <source>Last update</source>
        <translation>最終更新</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Watch</source>
        <translation>監視</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Last error</source>
        <translation>最後のエラー</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Re-index the folder by itself while Bunko is open, so new and changed files are found.</source>
        <translation>Bunko の起動中はフォルダーを自動で再インデックスし、新しいファイルや変更されたファイルを取り込みます。</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>Add a folder of documents</source>
        <translation>文書のフォルダーを追加</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Remove library</source>
        <translation>ライブラリを削除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove the library “{name}” from Bunko?

Its index is deleted. The folder {folder} and the files in it stay on disk, untouched.</source>
        <translation>ライブラリ「{name}」を Bunko から削除しますか?

インデックスは削除されます。フォルダー {folder} とその中のファイルはディスク上にそのまま残ります。</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>{pages} pages read by OCR, {low} with low confidence (listed below)</source>
        <translation>OCR で読み取ったページ {pages}、うち確信度の低いもの {low}（下の一覧）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{n} indexed in part (listed below)</source>
        <translation>{n} 件は一部のみインデックス (下に一覧)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>not yet</source>
        <translation>未実施</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Re-index every {n} s while Bunko is open</source>
        <translation>Bunko の起動中は {n} 秒ごとに再インデックス</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>{time} left</source>
        <translation>残り {time}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Indexing</source>
        <translation>インデックス作成中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Paused</source>
        <translation>一時停止中</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Queued</source>
        <translation>待機中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not indexed</source>
        <translation>未作成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ready</source>
        <translation>準備完了</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Adding {folder}…</source>
        <translation>{folder} を追加しています…</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Removed the library {name}; its folder is untouched.</source>
        <translation>ライブラリ {name} を削除しました。フォルダーはそのままです。</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>Indexing {name} stopped.</source>
        <translation>{name} のインデックス作成を停止しました。</translation>
    </message>
    <message>
        <location filename="../../desktop/library/embed_host.py" line="-81"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location filename="../../desktop/library/page.py" line="+15"/>
        <source>Indexing {name} failed: {error}</source>
        <translation>{name} のインデックス作成に失敗しました: {error}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Re-index library</source>
        <translation>ライブラリの再インデックス</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{error}

Re-index “{name}” now? Every file is embedded again; until then the library is not searched by meaning.</source>
        <translation>{error}

「{name}」を今すぐ再インデックスしますか？すべてのファイルをもう一度埋め込みます。それまでこのライブラリは意味検索の対象になりません。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Indexing {name} is paused.</source>
        <translation>{name} のインデックス作成を一時停止しました。</translation>
    </message>
    <message>
        <location line="-354"/>
        <source>No libraries yet</source>
        <translation>ライブラリはまだありません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A library is a folder of documents (PDF, Word, Excel, PowerPoint, Markdown, text). Bunko reads it on this computer so that chat answers cite your files.</source>
        <translation>ライブラリとは文書 (PDF、Word、Excel、PowerPoint、Markdown、テキスト) のフォルダーです。Bunko がこのコンピューター上で読み込み、チャットの回答にファイルの出典を示します。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add a folder…</source>
        <translation>フォルダーを追加…</translation>
    </message>
    <message>
        <location line="+314"/>
        <source>{name} is indexed: {added} added, {updated} updated, {removed} removed, {skipped} skipped, {failed} failed.</source>
        <translation>{name} のインデックス作成が完了しました: 追加 {added} 件、更新 {updated} 件、削除 {removed} 件、スキップ {skipped} 件、失敗 {failed} 件。</translation>
    </message>
</context>
<context>
    <name>LossCurve</name>
    <message>
        <location filename="../../desktop/finetune/loss_curve.py" line="+33"/>
        <source>The loss curve appears when training starts.</source>
        <translation>学習が始まると損失曲線が表示されます。</translation>
    </message>
    <message>
        <location line="+63"/>
        <source>step</source>
        <translation>ステップ</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>loss {loss} at step {step}</source>
        <translation>ステップ {step} の損失 {loss}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/main_window.py" line="+150"/>
        <location line="+281"/>
        <source>This page is not available in this build.</source>
        <translation>このページはこのビルドでは利用できません。</translation>
    </message>
    <message>
        <location line="-149"/>
        <source>No model loaded</source>
        <translation>モデル未読み込み</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Model: {name}</source>
        <translation>モデル: {name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>adapter {name}</source>
        <translation>アダプター {name}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>GPU: {layers}</source>
        <translation>GPU: {layers}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>safe settings</source>
        <translation>安全設定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Safe settings: {why}</source>
        <translation>安全設定で動作中: {why}</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Scanning {library}…</source>
        <translation>{library} をスキャン中…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{library} is up to date</source>
        <translation>{library} は最新です</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Indexing {library}: {done}/{total} files</source>
        <translation>{library} をインデックス作成中: {done}/{total} ファイル</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>about {n} min left</source>
        <translation>残り約 {n} 分</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>about {n} s left</source>
        <translation>残り約 {n} 秒</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Choose a folder of documents</source>
        <translation>文書のフォルダーを選択</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Choose a model file</source>
        <translation>モデルファイルを選択</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF モデル (*.gguf);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+36"/>
        <source>About Bunko</source>
        <translation>Bunko について</translation>
    </message>
    <message>
        <location line="-32"/>
        <source>CUDA build (can use an NVIDIA GPU)</source>
        <translation>CUDA 版 (NVIDIA GPU を使用可能)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>CPU build</source>
        <translation>CPU 版</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;br&gt;This computer has an NVIDIA GPU, which this build does not use. The CUDA build of Bunko (the download whose name ends in &lt;i&gt;-cuda&lt;/i&gt;) answers much faster with it.</source>
        <translation>&lt;br&gt;このコンピューターには NVIDIA GPU がありますが、このビルドは使いません。CUDA 版の文庫（名前が &lt;i&gt;-cuda&lt;/i&gt; で終わるダウンロード）なら、GPU を使ってずっと速く答えます。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&lt;h3&gt;Bunko (文庫) {version}&lt;/h3&gt;&lt;p&gt;{build}&lt;/p&gt;&lt;p&gt;Chat privately with local language models about your own documents. Nothing leaves this computer.&lt;/p&gt;&lt;p&gt;Licence: Apache-2.0&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Bunko (文庫) {version}&lt;/h3&gt;&lt;p&gt;{build}&lt;/p&gt;&lt;p&gt;お手元の文書について、ローカルの言語モデルと安全にチャットできます。データがこのコンピューターの外に送られることはありません。&lt;/p&gt;&lt;p&gt;ライセンス: Apache-2.0&lt;/p&gt;</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chat</source>
        <translation>チャット</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Libraries</source>
        <translation>ライブラリ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Models</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>Fine-tune</source>
        <translation>ファインチューニング</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Chat</source>
        <translation>チャット(&amp;C)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search conversations</source>
        <translation>会話を検索</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop answer</source>
        <translation>回答を停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add folder…</source>
        <translation>フォルダーを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add model…</source>
        <translation>モデルを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings…</source>
        <translation>設定…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quit</source>
        <translation>終了</translation>
    </message>
    <message>
        <location line="-199"/>
        <source>Show page names</source>
        <translation>ページ名を表示</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Show icons only</source>
        <translation>アイコンのみ表示</translation>
    </message>
    <message>
        <location line="+182"/>
        <source>Compare</source>
        <translation>比較</translation>
    </message>
</context>
<context>
    <name>MessageView</name>
    <message>
        <location filename="../../desktop/chat/message_view.py" line="+58"/>
        <source>You</source>
        <translation>あなた</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Bunko</source>
        <translation>Bunko</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>The model did not cite; these sources match its words</source>
        <translation>モデルは出典を示しませんでした。回答内容に一致する出典です</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Send again</source>
        <translation>再送信</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Copy</source>
        <translation>コピー</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Copy this message</source>
        <translation>このメッセージをコピー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Regenerate</source>
        <translation>再生成</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Answer this question again</source>
        <translation>この質問にもう一度回答させます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Edit</source>
        <translation>編集</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Change this question and send it again</source>
        <translation>この質問を編集して再送信します</translation>
    </message>
    <message>
        <location line="+80"/>
        <source>Answering…</source>
        <translation>回答中…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Stopped before the end.</source>
        <translation>途中で停止しました。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This answer failed: {reason}</source>
        <translation>回答に失敗しました: {reason}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This answer failed.</source>
        <translation>回答に失敗しました。</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>Sources ({n})</source>
        <translation>出典 ({n})</translation>
    </message>
    <message>
        <location line="+92"/>
        <source>The model&apos;s own text was left out: it said the sources do not answer this, yet the quoted sentence comes from them; check the quote against the question.</source>
        <translation>モデル自身の文は省きました。資料に答えがないと書きましたが、引用した文はその資料からのものです。引用が質問に答えているか確かめてください。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The model&apos;s own text was left out: it was not written in the question&apos;s language.</source>
        <translation>モデル自身の文は省きました。質問と同じ言語で書かれていませんでした。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The model&apos;s own text was left out: it only repeated the quoted sentence.</source>
        <translation>モデル自身の文は省きました。引用した文を繰り返しただけでした。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Parts of this answer are not in the question&apos;s language; the model may have misread the sources. A larger model answers better (see the Models page).</source>
        <translation>この回答の一部は質問と同じ言語ではありません。モデルが資料を読み違えたおそれがあります。より大きなモデルのほうが正確に答えます（モデルのページを参照）。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The model {model} stopped unexpectedly; what it had written is kept, and Bunko starts it again for your next question. The app itself is unaffected.</source>
        <translation>モデル {model} が予期せず停止しました。ここまでの回答は保存され、次の質問では Bunko がモデルを起動し直します。アプリ自体には影響ありません。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The connection to the model&apos;s server dropped during the answer; what came is kept. Ask again: Bunko reconnects.</source>
        <translation>回答中にモデルのサーバーとの接続が切れました。届いた部分は保存されています。もう一度質問すると Bunko が再接続します。</translation>
    </message>
    <message>
        <location line="+57"/>
        <source>Open a web page?</source>
        <translation>ウェブページを開きますか?</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The answer links to this address. Open it in your web browser?

{url}</source>
        <translation>回答に次のアドレスへのリンクがあります。ウェブブラウザーで開きますか?

{url}</translation>
    </message>
    <message>
        <location line="-230"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>GPU ({layers})</source>
        <translation>GPU ({layers})</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{rate} tokens/s</source>
        <translation>{rate} トークン/秒</translation>
    </message>
    <message>
        <location line="+142"/>
        <source>The model began repeating itself, so the answer was stopped there.</source>
        <translation>モデルが同じ内容を繰り返し始めたため、回答をそこで止めました。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The model&apos;s own text was left out: it added nothing to the quoted sentence, or did not agree with it.</source>
        <translation>モデル自身の文は省きました。引用した文に何も加えていないか、引用と食い違っていたためです。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The model {model} cannot write Japanese, so it was not asked.</source>
        <translation>モデル {model} は日本語を書けないため、質問を送りませんでした。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose {model} as the chat model above.</source>
        <translation>上のモデル選択で {model} を選んでください。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Install a Japanese-capable model: {command}</source>
        <translation>日本語を書けるモデルをインストールしてください: {command}</translation>
    </message>
</context>
<context>
    <name>ModelAdvice</name>
    <message>
        <location filename="../../desktop/first_run.py" line="-171"/>
        <source>No chat model is ready yet: get one on the Models page.</source>
        <translation>チャットモデルがまだありません。「モデル」ページで入手してください。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{model} will answer English questions (the default); Japanese questions go to {other}, because {model} cannot write Japanese.</source>
        <translation>英語の質問には {model}（既定）が答えます。{model} は日本語を書けないため、日本語の質問には {other} が答えます。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>it is loaded now; Japanese questions go to {other}, because it cannot write Japanese</source>
        <translation>現在読み込まれているモデルです。日本語を書けないため、日本語の質問には {other} が答えます</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>it is loaded now</source>
        <translation>現在読み込まれているモデルです</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>it is loaded now, but it cannot write Japanese</source>
        <translation>現在読み込まれていますが、日本語は書けません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the default, writes Japanese and English</source>
        <translation>既定のモデルで、日本語と英語を書けます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the default, writes Japanese</source>
        <translation>既定のモデルで、日本語を書けます</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the default, but it cannot write Japanese</source>
        <translation>既定のモデルですが、日本語は書けません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{model} will answer: {why}.</source>
        <translation>{model} が答えます: {why}。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>For Japanese questions, get a Japanese-capable model (Models → Get models…).</source>
        <translation>日本語で質問するには、日本語を書けるモデルを入手してください（「モデル」→「モデルを入手…」）。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>No catalog model fits this computer&apos;s memory; a small GGUF model can be added from a file.</source>
        <translation>このコンピューターのメモリーに収まるカタログのモデルがありません。小さな GGUF モデルをファイルから追加できます。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Recommended for this computer: {name} ({quant}, {size}, about {speed} tokens/s on {where}).</source>
        <translation>このコンピューターへのおすすめ: {name}（{quant}、{size}、{where} で約 {speed} トークン/秒）。</translation>
    </message>
</context>
<context>
    <name>ModelSettingsPanel</name>
    <message>
        <location filename="../../desktop/models/settings_panel.py" line="+115"/>
        <source>Auto</source>
        <translation>自動</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>How many layers run on the graphics card. Auto puts as many as fit; 0 keeps the whole model on the CPU.</source>
        <translation>GPU で処理するレイヤー数です。「自動」では収まるだけ GPU に載せ、0 ではモデル全体を CPU で処理します。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source> tokens</source>
        <translation> トークン</translation>
    </message>
    <message>
        <location line="-18"/>
        <source>CPU threads. Auto uses one per physical core.</source>
        <translation>CPU スレッド数です。「自動」では物理コアごとに 1 つ使います。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>These apply the next time a model is loaded.</source>
        <translation>これらの設定は次にモデルを読み込んだときに適用されます。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reload model</source>
        <translation>モデルを再読み込み</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Load the current model again with these settings.</source>
        <translation>現在のモデルをこの設定で読み込み直します。</translation>
    </message>
    <message>
        <location line="-19"/>
        <source>0 always picks the likeliest word; higher values vary more.</source>
        <translation>0 では常に最も確率の高い語を選びます。値を大きくするほど回答に変化が出ます。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Above 1 makes the model repeat itself less; 1 turns it off.</source>
        <translation>1 より大きくすると繰り返しが減ります。1 で無効になります。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The longest answer, in tokens.</source>
        <translation>回答の最大長 (トークン数) です。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Restore defaults</source>
        <translation>既定値に戻す</translation>
    </message>
    <message>
        <location line="-31"/>
        <source>Loading</source>
        <translation>読み込み</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>GPU layers:</source>
        <translation>GPU レイヤー数:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Context size:</source>
        <translation>コンテキスト長:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Threads:</source>
        <translation>スレッド数:</translation>
    </message>
    <message>
        <location line="-8"/>
        <source>Answers</source>
        <translation>回答</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>How much text the model sees at once: question, sources and answer. Auto uses the model&apos;s own size, at most 8,192 tokens.</source>
        <translation>モデルが一度に扱えるテキスト量 (質問・出典・回答の合計) です。「自動」ではモデル本来のサイズ (最大 8,192 トークン) を使います。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Temperature:</source>
        <translation>温度 (Temperature):</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-p:</source>
        <translation>Top-p:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Choose only among the likeliest words that together reach this probability.</source>
        <translation>確率の高い語から順に、合計がこの確率に達するまでの語だけから選びます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-k:</source>
        <translation>Top-k:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Choose only among this many likeliest words; 0 turns this filter off.</source>
        <translation>確率の高い上位この数の語だけから選びます。0 にするとこのフィルターは無効になります。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Min-p:</source>
        <translation>Min-p:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Leave out words less likely than this share of the likeliest one.</source>
        <translation>最も確率の高い語に対してこの割合より確率の低い語を除外します。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Repeat penalty:</source>
        <translation>繰り返しペナルティ:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Longest answer:</source>
        <translation>最大回答長:</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../../desktop/models/page.py" line="+148"/>
        <source>Chat models and LoRA adapters in GGUF format. Add a file with the button or drop .gguf files onto this page; Bunko keeps them where they are.</source>
        <translation>GGUF 形式のチャットモデルと LoRA アダプターです。ボタンでファイルを追加するか、.gguf ファイルをこのページにドロップしてください。ファイルは元の場所のまま使用します。</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+4"/>
        <source>Get models…</source>
        <translation>モデルを入手…</translation>
    </message>
    <message>
        <location line="-3"/>
        <source>No chat model yet</source>
        <translation>チャットモデルがまだありません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Bunko needs a chat model to answer. Get one that suits this computer (Japanese-capable ones are marked), or add a GGUF file you already have.</source>
        <translation>回答にはチャットモデルが必要です。このコンピューターに合うモデルを入手するか（日本語対応のモデルには印があります）、お持ちの GGUF ファイルを追加してください。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Add GGUF file…</source>
        <translation>GGUF ファイルを追加…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Load</source>
        <translation>読み込む</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove…</source>
        <translation>削除…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Size</source>
        <translation>サイズ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Quantization</source>
        <translation>量子化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Context</source>
        <translation>コンテキスト</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Chat template</source>
        <translation>チャットテンプレート</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Base model</source>
        <translation>ベースモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In use</source>
        <translation>使用中</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Runs on</source>
        <translation>実行場所</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Last speed</source>
        <translation>前回の速度</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>Add a GGUF model or adapter</source>
        <translation>GGUF モデルまたはアダプターを追加</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF モデル (*.gguf);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Loading {name}…</source>
        <translation>{name} を読み込んでいます…</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Bunko made this file, so it is deleted too: {path}</source>
        <translation>このファイルは Bunko が作成したため、あわせて削除されます: {path}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your file is not deleted: {path}</source>
        <translation>お使いのファイルは削除されません: {path}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove model</source>
        <translation>モデルを削除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove “{name}” from Bunko&apos;s list?</source>
        <translation>「{name}」を Bunko の一覧から削除しますか?</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Adapter</source>
        <translation>アダプター</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Model (built in)</source>
        <translation>モデル (内蔵)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>This PC</source>
        <translation>このPC</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>GPU, {layers}</source>
        <translation>GPU、{layers}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>{n:.1f} tokens/s</source>
        <translation>{n:.1f} トークン/秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Measured on its last answer ({when})</source>
        <translation>前回の回答で計測 ({when})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No answer measured yet</source>
        <translation>まだ計測した回答はありません</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Loaded</source>
        <translation>読み込み済み</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Attached ({scale:g}×)</source>
        <translation>適用中 ({scale:g}×)</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The built-in model cannot be removed.</source>
        <translation>内蔵モデルは削除できません。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>{file} is a LoRA adapter, and Bunko has no model to attach it to. Add its base model first.</source>
        <translation>{file} は LoRA アダプターですが、適用先のモデルがありません。先にベースモデルを追加してください。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Which model is this adapter for?</source>
        <translation>このアダプターはどのモデル用ですか?</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{file} is a LoRA adapter. Choose the model it was trained on:</source>
        <translation>{file} は LoRA アダプターです。学習に使用したモデルを選択してください:</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Added {name}.</source>
        <translation>{name} を追加しました。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Removed {name} from the list.</source>
        <translation>{name} を一覧から削除しました。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>{name} is loaded.</source>
        <translation>{name} を読み込みました。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>No model is loaded. Select one and press Load; a chat also loads its model when it first needs it.</source>
        <translation>モデルが読み込まれていません。モデルを選んで「読み込む」を押してください。チャットでも必要になった時点でモデルが読み込まれます。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{model} with the adapter {adapter}</source>
        <translation>{model} (アダプター {adapter})</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Loaded: {name}. Context {n_ctx} tokens, {threads} threads, GPU offload: {offload}.</source>
        <translation>読み込み済み: {name}。コンテキスト {n_ctx} トークン、{threads} スレッド、GPU オフロード: {offload}。</translation>
    </message>
    <message>
        <location line="-281"/>
        <source>Add from a server</source>
        <translation>サーバーから追加</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Endpoint…</source>
        <translation>エンドポイント…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>On a GPU server…</source>
        <translation>GPU サーバー上…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop server</source>
        <translation>サーバーを停止</translation>
    </message>
    <message>
        <location line="+131"/>
        <source>Model (endpoint)</source>
        <translation>モデル (エンドポイント)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model (GPU server)</source>
        <translation>モデル (GPU サーバー)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Runs on {where}</source>
        <translation>実行場所: {where}</translation>
    </message>
    <message>
        <location line="+142"/>
        <source>Answers come from {where}.</source>
        <translation>回答は {where} から届きます。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>What leaves this computer</source>
        <translation>このコンピューターから送信されるもの</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answers from this model come from {where}.

Sent there with each question: the question, the earlier turns of the conversation and the passages Bunko retrieved for it from your libraries.

Not sent: your documents and folders, the index, other conversations and the database; API keys stay in the system keyring.</source>
        <translation>このモデルの回答は {where} から届きます。

質問ごとに送信されるもの: 質問、会話のそれまでのやり取り、Bunko がライブラリから検索したその質問用の文章。

送信されないもの: 文書やフォルダー、インデックス、ほかの会話、データベース。API キーはシステムのキーリングに保存されたままです。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Stopped the server of {name}.</source>
        <translation>{name} のサーバーを停止しました。</translation>
    </message>
</context>
<context>
    <name>OptionsBar</name>
    <message>
        <location filename="../../desktop/chat/chat_options.py" line="+125"/>
        <source>Model alone</source>
        <translation>モデルのみ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Libraries (RAG)</source>
        <translation>ライブラリ (RAG)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>LoRA adapter</source>
        <translation>LoRA アダプター</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Libraries + LoRA adapter</source>
        <translation>ライブラリ + LoRA アダプター</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Where answers come from</source>
        <translation>回答の根拠</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>LoRA adapter (trained for the selected model)</source>
        <translation>LoRA アダプター (選択したモデル用に学習したもの)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How strongly the adapter changes the model (1.0 = as trained)</source>
        <translation>アダプターがモデルに与える影響の強さ (1.0 = 学習時のまま)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chat model</source>
        <translation>チャットモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>System prompt…</source>
        <translation>システムプロンプト…</translation>
    </message>
    <message>
        <location line="+10"/>
        <location line="+60"/>
        <source>Default model ({name})</source>
        <translation>既定のモデル ({name})</translation>
    </message>
    <message>
        <location line="-59"/>
        <location line="+60"/>
        <source>Default model</source>
        <translation>既定のモデル</translation>
    </message>
    <message>
        <location line="-58"/>
        <location line="+76"/>
        <source>No adapter for this model</source>
        <translation>このモデル用のアダプターはありません</translation>
    </message>
    <message>
        <location line="-73"/>
        <location line="+104"/>
        <location line="+79"/>
        <source>No system prompt</source>
        <translation>システムプロンプトなし</translation>
    </message>
    <message>
        <location line="-66"/>
        <source>No libraries yet: add a folder on the Library page</source>
        <translation>ライブラリがまだありません。「ライブラリ」ページでフォルダーを追加してください</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>All libraries</source>
        <translation>すべてのライブラリ</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{n} libraries</source>
        <translation>{n} 個のライブラリ</translation>
    </message>
    <message>
        <location line="-147"/>
        <source>Libraries this chat answers from</source>
        <translation>このチャットが回答に使うライブラリ</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../../desktop/settings_page.py" line="+133"/>
        <source>Appearance</source>
        <translation>外観</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Theme</source>
        <translation>テーマ</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+2"/>
        <source>System</source>
        <translation>システム設定に従う</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Light</source>
        <translation>ライト</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Dark</source>
        <translation>ダーク</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Some texts change language only after Bunko restarts.</source>
        <translation>一部の表示は Bunko の再起動後に切り替わります。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Embedding</source>
        <translation>埋め込み</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Files</source>
        <translation>ファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Data folder</source>
        <translation>データフォルダー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Log file</source>
        <translation>ログファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open</source>
        <translation>開く</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open folder</source>
        <translation>フォルダーを開く</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>Processor</source>
        <translation>プロセッサー</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>unknown</source>
        <translation>不明</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>CPU, {n} threads</source>
        <translation>CPU、{n} スレッド</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>fast graph</source>
        <translation>高速グラフ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>exact graph</source>
        <translation>厳密グラフ</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>GPU (CUDA), chosen when the model is first used</source>
        <translation>GPU (CUDA)。モデルの初回使用時に選ばれます</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU, chosen when the model is first used (no CUDA in this onnxruntime)</source>
        <translation>CPU。モデルの初回使用時に選ばれます（この onnxruntime には CUDA がありません）</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Indexing while an answer is written</source>
        <translation>回答の生成中のインデックス作成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pauses (answers stay fast)</source>
        <translation>一時停止する（回答が速いまま）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Slows down</source>
        <translation>速度を落とす</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Runs at full speed</source>
        <translation>全速で続ける</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>On a computer with few cores, indexing and the chat model compete for them. Indexing goes back to full speed as soon as the answer is done.</source>
        <translation>コア数の少ないコンピューターでは、インデックス作成とチャットモデルがCPUを取り合います。回答が終わるとインデックス作成はすぐに全速に戻ります。</translation>
    </message>
</context>
<context>
    <name>SettingsStep</name>
    <message>
        <location filename="../../desktop/finetune/settings_step.py" line="+107"/>
        <source>Training settings</source>
        <translation>学習設定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A preset suits most data; the advanced numbers are for people who know LoRA.</source>
        <translation>ほとんどのデータにはプリセットで十分です。詳細設定は LoRA に詳しい方向けです。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Start training</source>
        <translation>学習を開始(&amp;S)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Quick: one pass over the data; a first try</source>
        <translation>クイック(&amp;Q): データを 1 回学習。まず試すときに</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Balanced: three passes, a larger adapter</source>
        <translation>バランス(&amp;B): データを 3 回学習。より大きなアダプター</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>T&amp;horough: five passes, the largest adapter; for larger data sets</source>
        <translation>じっくり(&amp;H): データを 5 回学習。最大のアダプター。大きなデータセット向け</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Advanced</source>
        <translation>詳細設定(&amp;A)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA rank:</source>
        <translation>LoRA ランク:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>LoRA alpha:</source>
        <translation>LoRA アルファ:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Learning rate:</source>
        <translation>学習率:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Epochs:</source>
        <translation>エポック数:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sequence length (tokens):</source>
        <translation>シーケンス長 (トークン):</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Batch size:</source>
        <translation>バッチサイズ:</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Stop after steps:</source>
        <translation>最大ステップ数:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Checkpoint every (steps):</source>
        <translation>チェックポイントの間隔 (ステップ):</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Load the base in 4-bit (GPU only):</source>
        <translation>ベースモデルを 4 ビットで読み込む (GPU のみ):</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>no limit (epochs decide)</source>
        <translation>制限なし (エポック数で決定)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Job &amp;name:</source>
        <translation>ジョブ名(&amp;N):</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Letters, digits, &apos;.&apos;, &apos;-&apos; and &apos;_&apos;; it also names the adapter.</source>
        <translation>英数字、「.」「-」「_」が使えます。アダプターの名前にもなります。</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>Give the job a name.</source>
        <translation>ジョブ名を入力してください。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use letters, digits, &apos;.&apos;, &apos;-&apos; and &apos;_&apos; only (at most 64).</source>
        <translation>英数字、「.」「-」「_」のみ使用できます (64 文字まで)。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A job, model or adapter is called “{name}” already.</source>
        <translation>「{name}」という名前のジョブ、モデル、またはアダプターがすでにあります。</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Estimate: {estimate}.</source>
        <translation>見積もり: {estimate}。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>That may not fit in the GPU&apos;s {n} GiB: choose 4-bit loading, a smaller batch or a shorter sequence length.</source>
        <translation>GPU のメモリ {n} GiB に収まらない可能性があります。4 ビット読み込み、小さいバッチサイズ、または短いシーケンス長を選んでください。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{n} examples are longer than {seq} tokens; the ends of their answers would be cut.</source>
        <translation>{n} 件の学習例が {seq} トークンを超えているため、回答の末尾が切り捨てられます。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No estimate: {error}</source>
        <translation>見積もりできません: {error}</translation>
    </message>
</context>
<context>
    <name>SideBySideDialog</name>
    <message>
        <location filename="../../desktop/chat/side_by_side.py" line="+206"/>
        <source>Side by side</source>
        <translation>並べて比較</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ask one question two ways and compare. Bunko holds one local model in memory at a time, so the two answers are written one after the other (A, then B); a second model&apos;s loading time counts in B&apos;s first-token time. Mark the better answer (Alt+1, Alt+2) and save the pair (Ctrl+S): the comparison lab can run the saved questions.</source>
        <translation>1つの質問を2通りで尋ねて比べます。Bunko はローカルモデルを一度に1つしかメモリに置かないため、2つの回答は順番に（A、次に B）生成されます。2つ目のモデルの読み込み時間は B の最初のトークンまでの時間に含まれます。良い方の回答を選び (Alt+1, Alt+2)、組を保存すると (Ctrl+S)、比較ラボで保存した質問を実行できます。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Save pair to question set</source>
        <translation>組を質問セットに保存</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adds the question with the better answer as its reference to a question set for the comparison lab</source>
        <translation>質問と、参照回答として良い方の回答を、比較ラボ用の質問セットに追加します</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Saved to {path}. Use it in the comparison lab as a question file (bunko compare run --questions {path}).</source>
        <translation>{path} に保存しました。比較ラボで質問ファイルとして使えます (bunko compare run --questions {path})。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Ask both</source>
        <translation>両方に質問</translation>
    </message>
    <message>
        <location line="+108"/>
        <source>Saved the marked pair.</source>
        <translation>選んだ組を保存しました。</translation>
    </message>
</context>
<context>
    <name>SideColumn</name>
    <message>
        <location line="-255"/>
        <source>Answer {letter}</source>
        <translation>回答 {letter}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{letter} is better</source>
        <translation>{letter} が良い</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mark answer {letter} as the better one</source>
        <translation>回答 {letter} を良い方として選ぶ</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Waiting for the other answer to finish…</source>
        <translation>もう一方の回答が終わるのを待っています…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Loading the model and reading the libraries…</source>
        <translation>モデルを読み込み、ライブラリを検索しています…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>First token after {s} s · writing…</source>
        <translation>最初のトークンまで {s} 秒 · 生成中…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>No answer.</source>
        <translation>回答なし。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>first token {s} s</source>
        <translation>最初のトークンまで {s} 秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{rate} tokens/s</source>
        <translation>{rate} トークン/秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{s} s in all</source>
        <translation>合計 {s} 秒</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Stopped.</source>
        <translation>停止しました。</translation>
    </message>
</context>
<context>
    <name>SkipReason</name>
    <message>
        <location filename="../../desktop/library/reasons.py" line="+21"/>
        <source>unsupported file type (no extension)</source>
        <translation>対応していないファイル形式（拡張子なし）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>unsupported file type {0} (old Word format; save it as .docx)</source>
        <translation>対応していないファイル形式 {0}（古い Word 形式です。.docx で保存してください）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>unsupported file type {0} (old Excel format; save it as .xlsx)</source>
        <translation>対応していないファイル形式 {0}（古い Excel 形式です。.xlsx で保存してください）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>unsupported file type {0} (old PowerPoint format; save it as .pptx)</source>
        <translation>対応していないファイル形式 {0}（古い PowerPoint 形式です。.pptx で保存してください）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unsupported file type {0}</source>
        <translation>対応していないファイル形式 {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>hidden file</source>
        <translation>隠しファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>hidden folder</source>
        <translation>隠しフォルダー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>temporary or lock file</source>
        <translation>一時ファイルまたはロックファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>broken link</source>
        <translation>リンク切れ</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>link to a file outside the library folder; not followed</source>
        <translation>ライブラリのフォルダー外のファイルへのリンクのため、たどりません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>link to a {0} outside the library folder ({1}); not followed</source>
        <translation>ライブラリのフォルダー外の{0}へのリンク（{1}）のため、たどりません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>file is too large ({0})</source>
        <translation>ファイルが大きすぎます（{0}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the file contains no text</source>
        <translation>ファイルに文字がありません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no permission to read this file</source>
        <translation>このファイルを読む権限がありません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no permission to read this folder</source>
        <translation>このフォルダーを読む権限がありません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>permission denied: Bunko is not allowed to read this file</source>
        <translation>アクセスが拒否されました。文庫にはこのファイルを読む許可がありません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cannot read this file ({0})</source>
        <translation>このファイルを読めません（{0}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>cannot read this folder ({0})</source>
        <translation>このフォルダーを読めません（{0}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the file could not be read ({0})</source>
        <translation>ファイルを読めませんでした（{0}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the file was not found (it may have been moved or deleted)</source>
        <translation>ファイルが見つかりません（移動または削除された可能性があります）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>this is a folder, not a file</source>
        <translation>ファイルではなくフォルダーです</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0}, not a document</source>
        <translation>{0}で、文書ではありません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>system folder ({0}), not documents</source>
        <translation>システムのフォルダー（{0}）で、文書ではありません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not a valid PDF file</source>
        <translation>正しい PDF ファイルではありません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the PDF file is damaged and cannot be read</source>
        <translation>PDF ファイルが壊れていて読めません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the PDF file is damaged and its text cannot be read</source>
        <translation>PDF ファイルが壊れていて、文字を読み取れません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the PDF has no pages</source>
        <translation>PDF にページがありません</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the PDF is password-protected</source>
        <translation>PDF がパスワードで保護されています</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the PDF is encrypted in a way Bunko cannot open</source>
        <translation>PDF が文庫で開けない方式で暗号化されています</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>not a valid {0} (the file is damaged, or is another kind of file)</source>
        <translation>正しい {0} ではありません（ファイルが壊れているか、別の種類のファイルです）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the CSV file is malformed ({0})</source>
        <translation>CSV ファイルの形式が正しくありません（{0}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the HTML page is too damaged to read in reasonable time</source>
        <translation>HTML ページが壊れすぎていて、妥当な時間で読めません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the file is too large to read into memory</source>
        <translation>ファイルが大きすぎてメモリーに読み込めません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the file is nested too deeply to read</source>
        <translation>ファイルの入れ子が深すぎて読めません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>reading the file took too long (more than {0} s); it was left out</source>
        <translation>ファイルの読み込みに時間がかかりすぎたため（{0} 秒超）、除外しました</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>reading the file needed too much memory (more than {0} MB); it was left out</source>
        <translation>ファイルの読み込みに必要なメモリーが多すぎたため（{0} MB 超）、除外しました</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>reading the file was stopped</source>
        <translation>ファイルの読み込みを中止しました</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unexpected error ({0})</source>
        <translation>予期しないエラー（{0}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>version-control folder</source>
        <translation>バージョン管理のフォルダー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>system folder</source>
        <translation>システムフォルダー</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>generated or dependency folder ({0})</source>
        <translation>生成物または依存パッケージのフォルダー ({0})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>lock file written by a package manager</source>
        <translation>パッケージマネージャーが書いたロックファイル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>minified or bundled code</source>
        <translation>縮小 (minify) またはバンドルされたコード</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>minified code (very long lines with little whitespace)</source>
        <translation>縮小 (minify) されたコード (空白の少ない非常に長い行)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>source map written by a build tool</source>
        <translation>ビルドツールが書いたソースマップ</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>large data file ({0}), a dump or export rather than a document</source>
        <translation>大きなデータファイル ({0})。文書ではなくダンプまたはエクスポート</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>ignored by {0} (pattern {1})</source>
        <translation>{0} で除外 (パターン {1})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>text with almost no information (the same few characters repeated); not indexed</source>
        <translation>ほとんど情報のないテキスト (同じ数文字の繰り返し)。インデックスしません</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>encoded data (base64 or hex) rather than text; not indexed</source>
        <translation>テキストではなくエンコードされたデータ (base64 または 16 進)。インデックスしません</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>a hex dump rather than text; not indexed</source>
        <translation>テキストではなく 16 進ダンプ。インデックスしません</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>indexed in part: the first {passages} passages, about {share}% of a {size} file; a file this large would hold the rest of the library back</source>
        <translation>一部のみインデックス: {size} のファイルの先頭 {passages} パッセージ (約 {share}%)。これほど大きなファイルは、ライブラリのほかのファイルを待たせるため</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>a named pipe</source>
        <translation>名前付きパイプ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a socket</source>
        <translation>ソケット</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a device</source>
        <translation>デバイス</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not a regular file</source>
        <translation>通常のファイル以外</translation>
    </message>
</context>
<context>
    <name>SkippedFilesView</name>
    <message>
        <location filename="../../desktop/library/skipped.py" line="+62"/>
        <source>File</source>
        <translation>ファイル</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Include generated and ignored files</source>
        <translation>生成ファイルと除外ファイルも含める</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Also index generated code (node_modules, build folders, lock files, minified bundles, source maps, data dumps) and files that a .gitignore leaves out. A .bunkoignore file always applies.</source>
        <translation>生成されたコード (node_modules、ビルドフォルダー、ロックファイル、縮小されたバンドル、ソースマップ、データダンプ) と .gitignore で除外されたファイルもインデックスします。.bunkoignore は常に適用されます。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Skipped and failed files: select a library above.</source>
        <translation>スキップ・失敗したファイル: 上でライブラリを選択してください。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Skipped and failed files in {name}</source>
        <translation>{name} でスキップ・失敗したファイル</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>Skipped</source>
        <translation>スキップ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Check</source>
        <translation>要確認</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Indexed in part</source>
        <translation>一部のみインデックス</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No skipped or failed files in {name}.</source>
        <translation>{name} にスキップ・失敗したファイルはありません。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Files not indexed in {name}: {skipped} skipped, {failed} failed</source>
        <translation>{name} でインデックスされなかったファイル: スキップ {skipped} 件、失敗 {failed} 件</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>; {n} indexed in part (too large to embed whole)</source>
        <translation>、{n} 件は一部のみインデックス (大きすぎて全体を埋め込めないため)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; {check} indexed with pages to check (OCR: low confidence)</source>
        <translation>、確認が必要なページのあるファイル {check}（OCR: 確信度低）</translation>
    </message>
</context>
<context>
    <name>SystemBox</name>
    <message>
        <location filename="../../desktop/system_box.py" line="+46"/>
        <source>Checking this computer… (the llama.cpp check takes a few seconds)</source>
        <translation>このコンピューターを確認しています…（llama.cpp の確認には数秒かかります）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reading…</source>
        <translation>読み込み中…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The system report could not be made: {reason}</source>
        <translation>システム情報を作成できませんでした: {reason}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>System</source>
        <translation>システム</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How models run on this computer: CPU features, the llama.cpp build, and the result of its safety check. Nothing private is in it: paste it into a bug report.</source>
        <translation>このコンピューターでのモデルの動作環境です（CPU の機能、llama.cpp のビルド、安全確認の結果）。個人的な情報は含まれないので、不具合の報告にそのまま貼り付けられます。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Copy</source>
        <translation>コピー</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run the check again</source>
        <translation>もう一度確認する</translation>
    </message>
</context>
<context>
    <name>SystemPromptDialog</name>
    <message>
        <location filename="../../desktop/chat/chat_options.py" line="-88"/>
        <source>System prompt</source>
        <translation>システムプロンプト</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>For example: Answer in Japanese, briefly, as our HR desk.</source>
        <translation>例: 人事部の窓口として、日本語で簡潔に回答してください。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Instructions the model reads before every question in this chat:</source>
        <translation>このチャットで、モデルが毎回質問の前に読む指示:</translation>
    </message>
</context>
<context>
    <name>TrainStep</name>
    <message>
        <location filename="../../desktop/finetune/train_step.py" line="-192"/>
        <source>Training</source>
        <translation>学習</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel training</source>
        <translation>学習をキャンセル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>You can close Bunko; training continues and is followed again on the next start.</source>
        <translation>Bunko を閉じても学習は続き、次回起動時に再び進捗を追跡します。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Training {name} on {where}.</source>
        <translation>{name} を {where} で学習しています。</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>Timing the first steps on this computer for an estimate…</source>
        <translation>見積もりのため、このコンピューターで最初の数ステップの時間を測っています…</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Measured before the start: {load} to load the model, {step} a step; {steps} steps take about {time} in all.</source>
        <translation>開始前の実測: モデルの読み込み {load}、1 ステップ {step}。{steps} ステップで合計およそ {time} かかります。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No measured estimate: {error}</source>
        <translation>実測の見積もりはできませんでした: {error}</translation>
    </message>
    <message>
        <location line="+35"/>
        <location line="+9"/>
        <source>The job is kept: resume it from the Fine-tune page when the problem is solved.</source>
        <translation>ジョブは保存されています。問題を解決したら「ファインチューニング」ページから再開してください。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Stopping the trainer; it saves a checkpoint first…</source>
        <translation>学習を停止しています。先にチェックポイントを保存します…</translation>
    </message>
</context>
<context>
    <name>TrainingRecord</name>
    <message>
        <location filename="../../desktop/finetune/results.py" line="+35"/>
        <source>Base model</source>
        <translation>ベースモデル</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Where</source>
        <translation>学習場所</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Data</source>
        <translation>データ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>{train} training examples, {held} held out, {bad} bad rows skipped</source>
        <translation>学習用 {train} 件、比較用 {held} 件、不正な行 {bad} 件をスキップ</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sources</source>
        <translation>データの出所</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Preset</source>
        <translation>プリセット</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>rank {rank}, alpha {alpha}</source>
        <translation>ランク {rank}、アルファ {alpha}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training</source>
        <translation>学習</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>learning rate {lr}, {epochs} epochs, sequence length {seq}, batch {batch}</source>
        <translation>学習率 {lr}、{epochs} エポック、シーケンス長 {seq}、バッチ {batch}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Steps</source>
        <translation>ステップ数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Final loss</source>
        <translation>最終損失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Held-out loss</source>
        <translation>比較用データの損失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trainer</source>
        <translation>学習バックエンド</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Time</source>
        <translation>所要時間</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>{n} s</source>
        <translation>{n} 秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Adapter</source>
        <translation>アダプター</translation>
    </message>
</context>
<context>
    <name>TrainingView</name>
    <message>
        <location filename="../../desktop/finetune/training_view.py" line="+58"/>
        <source>Loss curve</source>
        <translation>損失曲線</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Events</source>
        <translation>イベント</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trainer output</source>
        <translation>学習ログ</translation>
    </message>
    <message>
        <location line="+65"/>
        <source>Connection lost — retrying in {n} s; training continues on the server</source>
        <translation>接続が切れました — {n} 秒後に再接続します。学習はサーバーで続いています</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Not started yet.</source>
        <translation>まだ開始していません。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Setting up the trainer&apos;s environment (first run only; it needs internet on the training computer)…</source>
        <translation>学習環境をセットアップしています (初回のみ。学習するコンピューターでインターネット接続が必要です)…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Uploading the data and the base model…</source>
        <translation>データとベースモデルをアップロードしています…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training…</source>
        <translation>学習中…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reconnected; training…</source>
        <translation>再接続しました。学習中…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Converting the adapter for llama.cpp…</source>
        <translation>アダプターを llama.cpp 用に変換しています…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Done: the adapter is registered and can be used in chat.</source>
        <translation>完了: アダプターが登録され、チャットで使えるようになりました。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancelled. Resume continues from the last checkpoint.</source>
        <translation>キャンセルしました。「再開」で最後のチェックポイントから続けられます。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed: {error}</source>
        <translation>失敗: {error}</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Uploaded {done} of {total}</source>
        <translation>{total} 中 {done} をアップロード済み</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Step {step} / {total}</source>
        <translation>ステップ {step} / {total}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>loss {loss}</source>
        <translation>損失 {loss}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{rate} tokens/s</source>
        <translation>{rate} トークン/秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{time} left</source>
        <translation>残り {time}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>no GPU</source>
        <translation>GPU なし</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Connected to {host}: Python {python}, {gpus}</source>
        <translation>{host} に接続しました: Python {python}、{gpus}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Connection lost ({message}); retrying in {n} s.</source>
        <translation>接続が切れました ({message})。{n} 秒後に再接続します。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Reconnected.</source>
        <translation>再接続しました。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status: {status}</source>
        <translation>状態: {status}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The trainer started: {examples} examples, {steps} steps ({backend}).</source>
        <translation>学習を開始しました: 学習例 {examples} 件、{steps} ステップ ({backend})。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Resumed from step {step}.</source>
        <translation>ステップ {step} から再開しました。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Checkpoint saved at step {step}.</source>
        <translation>ステップ {step} でチェックポイントを保存しました。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stopped at step {step}; a checkpoint was saved.</source>
        <translation>ステップ {step} で停止し、チェックポイントを保存しました。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Training finished: final loss {loss}.</source>
        <translation>学習が終了しました: 最終損失 {loss}。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Error: {message}</source>
        <translation>エラー: {message}</translation>
    </message>
</context>
<context>
    <name>Transcript</name>
    <message>
        <location filename="../../desktop/chat/transcript.py" line="+54"/>
        <source>Ask a question about your documents, or just chat.
Enter sends; Shift+Enter starts a new line.</source>
        <translation>文書について質問するか、自由にチャットしてください。
Enter で送信、Shift+Enter で改行します。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ask about your documents</source>
        <translation>文書について質問する</translation>
    </message>
</context>
</TS>
